// Async jobs end to end through the real CLI and the Overlord API against a real 5-minion fleet:
// --async --nopoll prints an id at once, job status/wait/list/purge, Func's --jobstatus, default polling,
// and a minion stopped before dispatch ending `unreachable` in a job that still finishes.

import assert from "node:assert/strict";
import { EXIT, isJobId } from "@func/shared";
import { Overlord, type JobStatus } from "@func/overlord";
import { exited } from "./helpers/procs.js";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

describe("async jobs: CLI and API against a 5-minion fleet", function () {
  this.timeout(60_000);
  let fleet: TestFleet;
  let names: string[];

  before(async () => {
    fleet = await startFleet("async", 21, 5);
    names = fleet.minions.map((m) => m.name).sort();
  });
  after(async () => {
    await fleet?.stop();
  });

  it('`call --async --nopoll test sleep 4` prints only an id at once; status goes running -> finished, every host ok', async () => {
    const started = Date.now();
    // 4 s rather than the 2: the early status must still find it running on a loaded box
    const r = await func(fleet.home, ["*", "call", "--async", "--nopoll", "test", "sleep", "4"]);
    const elapsed = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.ok(isJobId(id) && r.stdout === `${id}\n`, `stdout: ${JSON.stringify(r.stdout)}`);
    // process start included; the point is that it does not wait the 4 s of the job
    assert.ok(elapsed < 8000, `took ${elapsed} ms`);

    const early = await func(fleet.home, ["job", "status", id, "--json"]);
    const doc = JSON.parse(early.stdout) as JobStatus & { job: string };
    assert.equal(doc.job, id);
    assert.ok(["RUNNING", "PARTIAL"].includes(doc.status), doc.status);
    assert.deepEqual(Object.keys(doc.hosts), names);
    for (const h of Object.values(doc.hosts)) assert.equal(h.outcome, "running");

    const wait = await func(fleet.home, ["job", "wait", id]);
    assert.equal(wait.code, 0, wait.stderr);
    assert.match(wait.stderr, /5\/5 hosts done/);
    assert.equal(wait.stdout.trim().split("\n").length, 5);

    const done = JSON.parse((await func(fleet.home, ["job", "status", id, "--json"])).stdout) as JobStatus;
    assert.equal(done.status, "FINISHED");
    assert.equal(done.code, 1);
    assert.equal(done.summary.ok, 5);
    for (const h of Object.values(done.hosts)) {
      assert.equal(h.outcome, "ok");
      assert.ok(isJobId(h.minionJobId), "each host keeps its minion job id");
    }
  });

  it("`call --async` without --nopoll polls and prints each host as sync calls do, --json with the job id", async () => {
    const r = await func(fleet.home, ["*", "call", "--async", "test", "add", "1", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { job: string; hosts: Record<string, { outcome: string; value: unknown }>; summary: { ok: number } };
    assert.ok(isJobId(doc.job));
    assert.deepEqual(Object.keys(doc.hosts), names);
    for (const h of Object.values(doc.hosts)) assert.deepEqual([h.outcome, h.value], ["ok", 3]);
    assert.equal(doc.summary.ok, 5);
    assert.match(r.stderr, new RegExp(`job ${doc.job} started on 5 hosts`));
  });

  it("a method that raises: `error` on every host, exit bit 2; Func's `call --jobstatus ID` shows it", async () => {
    const r = await func(fleet.home, ["minion0[1-2]", "call", "--async", "test", "explode", "boom"]);
    assert.equal(r.code, EXIT.ERROR, r.stderr);
    assert.match(r.stdout, /minion01\s+error\s+MethodError: boom/);
    const id = /job (\S+) started/.exec(r.stderr)![1]!;
    const s = await func(fleet.home, ["*", "call", "--jobstatus", id, "--json"]);
    assert.equal(s.code, EXIT.ERROR);
    const doc = JSON.parse(s.stdout) as JobStatus;
    assert.equal(doc.status, "FINISHED");
    assert.deepEqual(Object.keys(doc.hosts), ["minion01", "minion02"]);
    for (const h of Object.values(doc.hosts)) assert.equal(h.outcome === "error" && h.error.code, 1);
  });

  it("`job wait --timeout` returns with the hosts still open counted as timeout (exit bit 8)", async () => {
    const id = (await func(fleet.home, ["minion03", "call", "--async", "--nopoll", "test", "sleep", "4"])).stdout.trim();
    const r = await func(fleet.home, ["job", "wait", id, "--timeout", "0.5", "--json"]);
    assert.equal(r.code & EXIT.TIMEOUT, EXIT.TIMEOUT, r.stderr);
    const doc = JSON.parse(r.stdout) as { hosts: Record<string, { outcome: string; error?: { type: string } }> };
    assert.deepEqual([doc.hosts.minion03!.outcome, doc.hosts.minion03!.error?.type], ["timeout", "StillRunning"]);
    const later = await func(fleet.home, ["job", "wait", id]);
    assert.equal(later.code, 0, later.stderr);
  });

  it("the API: callAsync -> id, jobStatus, waitJob telling onHost of each host once, listJobs newest first", async () => {
    const o = new Overlord("*", { home: fleet.home });
    try {
      const id = await o.callAsync("test", "add", [40, 2]);
      assert.ok(isJobId(id));
      const st = await o.jobStatus(id);
      assert.equal(st.total, 5);
      assert.deepEqual(Object.keys(st.hosts), names);
      const seen: string[] = [];
      const final = await o.waitJob(id, { onHost: (host, result) => {
        seen.push(host);
        assert.deepEqual([result.outcome, result.outcome === "ok" && result.value], ["ok", 42]);
      } });
      assert.equal(final.status, "FINISHED");
      assert.deepEqual(seen.sort(), names);
      const listed = await o.listJobs({ limit: 3 });
      assert.equal(listed.length, 3);
      assert.deepEqual([listed[0]!.id, listed[0]!.status, listed[0]!.summary.ok], [id, "FINISHED", 5]);
      assert.ok(listed[0]!.id > listed[1]!.id && listed[1]!.id > listed[2]!.id, "newest first");
    } finally {
      await o.close();
    }
  });

  it("`job list` and `job purge`: purge takes finished jobs and never a running one", async () => {
    const running = (await func(fleet.home, ["minion04", "call", "--async", "--nopoll", "test", "sleep", "15"])).stdout.trim();
    const list = await func(fleet.home, ["job", "list", "--limit", "2"]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^${running}\\s+(RUNNING|PARTIAL)\\s`));
    const all = JSON.parse((await func(fleet.home, ["job", "list", "--json", "--limit", "100"])).stdout) as { jobs: { id: string; status: string }[] };
    const finishedIds = all.jobs.filter((j) => j.status === "FINISHED").map((j) => j.id);
    assert.ok(finishedIds.length >= 4);
    const purge = await func(fleet.home, ["job", "purge", "--older-than", "0"]);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stdout.trim(), `purged ${finishedIds.length} jobs`);
    const gone = await func(fleet.home, ["job", "status", finishedIds[0]!]);
    assert.equal(gone.code, EXIT.USAGE);
    assert.match(gone.stderr, /no job .* here/);
    const still = await func(fleet.home, ["job", "status", running, "--json"]);
    assert.equal(still.code, 0, still.stderr);
    assert.deepEqual(Object.keys(JSON.parse(still.stdout).hosts), ["minion04"]);
  });

  it("hostile or unknown job ids are refused before any lookup", async () => {
    const r = await func(fleet.home, ["job", "status", "../../../etc/passwd"]);
    assert.equal(r.code, EXIT.USAGE);
    assert.match(r.stderr, /not a job id/);
  });

  it("a minion stopped before dispatch is `unreachable` in the job, which still reaches FINISHED (exit bit 4)", async () => {
    const victim = fleet.minions.find((m) => m.name === "minion05")!;
    process.kill(victim.pid, "SIGKILL");
    await exited(victim.pid);
    const r = await func(fleet.home, ["*", "call", "--async", "test", "ping", "--json"]);
    assert.equal(r.code, EXIT.UNREACHABLE, r.stderr);
    const doc = JSON.parse(r.stdout) as { job: string; hosts: Record<string, { outcome: string }>; summary: { ok: number; unreachable: number } };
    assert.equal(doc.hosts.minion05!.outcome, "unreachable");
    assert.deepEqual([doc.summary.ok, doc.summary.unreachable], [4, 1]);
    const st = JSON.parse((await func(fleet.home, ["job", "status", doc.job, "--json"])).stdout) as JobStatus;
    assert.equal(st.status, "FINISHED");
    assert.equal(st.hosts.minion05!.final, true);
  });
});
