// Nothing lost: real processes killed with SIGKILL in the middle of async jobs on a real 3-minion fleet.
// funcd killed and restarted (the job still finishes), the job runner killed (the host is `lost`), and the
// overlord's dispatcher killed mid-fan-out (every host accounted for, no method run twice on a minion).

import assert from "node:assert/strict";
import { EXIT, JOB_ID_HEADER, isJobId, processRunning } from "@func/shared";
import { Overlord, type JobStatus } from "@func/overlord";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";
import { minionJobsFor, restartFuncd, until } from "./helpers/jobs.js";

/** funcd processes of the named minions, SIGSTOPped: the dispatcher's calls to them hang, so a kill lands mid-fan-out. */
function freeze(fleet: TestFleet, names: string[]): () => void {
  const pids = names.map((n) => fleet.minions.find((m) => m.name === n)!.pid);
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  return () => {
    for (const pid of pids.splice(0)) process.kill(pid, "SIGCONT");
  };
}

describe("async jobs survive SIGKILL (3-minion fleet)", function () {
  this.timeout(60_000);
  let fleet: TestFleet;

  before(async () => {
    fleet = await startFleet("akill", 22, 3);
  });
  after(async () => {
    await fleet?.stop();
  });

  const dispatched = (o: Overlord, id: string, host: string) =>
    until(`${host} dispatched`, async () => {
      const st = await o.jobStatus(id, { poll: false });
      return st.hosts[host]?.minionJobId ?? undefined;
    });

  it("funcd killed with SIGKILL while a job runs, then a new funcd on the same home: the job finishes, reported once", async () => {
    const o = new Overlord("minion01", { home: fleet.home, timeout: 2 });
    try {
      const submitted = Date.now() / 1000;
      const id = await o.callAsync("test", "sleep", [3]);
      const minionJob = await dispatched(o, id, "minion01");
      const funcd = fleet.minions.find((m) => m.name === "minion01")!.pid;
      process.kill(funcd, "SIGKILL");
      await until("funcd gone", () => (processRunning(funcd, "funcd") ? undefined : true));

      const meanwhile = await o.jobStatus(id);
      assert.equal(meanwhile.status, "PARTIAL");
      assert.deepEqual([meanwhile.hosts.minion01!.outcome, meanwhile.hosts.minion01!.final], ["unreachable", false], "no answer leaves the host open");

      await restartFuncd(fleet, "minion01");
      const told: string[] = [];
      const done = await o.waitJob(id, { timeoutMs: 30_000, onHost: (h) => told.push(h) });
      assert.equal(done.status, "FINISHED");
      assert.deepEqual(told, ["minion01"], "the host is reported once");
      assert.equal((await minionJobsFor(fleet.home, "minion01", id)).length, 1, "the minion holds one record of the job");
      const host = done.hosts.minion01!;
      assert.equal(host.outcome, "ok", JSON.stringify(host));
      assert.equal(host.minionJobId, minionJob);
      // the value is the time the sleep woke: the job ran to its end in the runner that outlived funcd
      assert.ok(host.outcome === "ok" && (host.value as number) >= submitted + 3 - 1);
      const cli = await func(fleet.home, ["job", "status", id, "--json"]);
      assert.equal(JSON.parse(cli.stdout).hosts.minion01.outcome, "ok");
    } finally {
      await o.close();
    }
  });

  it("the job runner killed with SIGKILL: the host becomes `lost` with the reason, not RUNNING forever", async () => {
    const o = new Overlord("minion02", { home: fleet.home });
    try {
      const id = await o.callAsync("test", "sleep", [60]);
      await dispatched(o, id, "minion02");
      const [rec] = await until("the runner's pid", async () => {
        const jobs = await minionJobsFor(fleet.home, "minion02", id);
        return jobs.length === 1 && jobs[0]!.pid ? jobs : undefined;
      });
      assert.ok(processRunning(rec!.pid, rec!.id), "the runner is alive before the kill");
      process.kill(rec!.pid!, "SIGKILL");
      const r = await func(fleet.home, ["job", "wait", id, "--json"]);
      assert.equal(r.code, EXIT.TIMEOUT, r.stderr);
      const host = JSON.parse(r.stdout).hosts.minion02;
      assert.equal(host.outcome, "lost");
      assert.match(host.error.message, new RegExp(`runner \\(pid ${rec!.pid}\\) exited without writing a result`));
    } finally {
      await o.close();
    }
  });

  it("the dispatcher killed mid-fan-out: every host accounted for, all finish, none run twice", async () => {
    const thaw = freeze(fleet, ["minion02", "minion03"]);
    const o = new Overlord("*", { home: fleet.home });
    try {
      const r = await func(fleet.home, ["*", "call", "--async", "--nopoll", "test", "add", "7", "8"]);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      await dispatched(o, id, "minion01");
      const before = await o.jobStatus(id, { poll: false });
      assert.ok(before.dispatcher.pid && processRunning(before.dispatcher.pid, id), "the dispatcher is running");
      process.kill(before.dispatcher.pid, "SIGKILL");
      await until("the dispatcher gone", () => (processRunning(before.dispatcher.pid, id) ? undefined : true));
      thaw();
      const undispatched = Object.values(before.hosts).filter((h) => h.minionJobId === null).length;
      assert.ok(undispatched >= 1, "killed before the fan-out was done");

      const status = await func(fleet.home, ["job", "status", id, "--json"]);
      const doc = JSON.parse(status.stdout) as JobStatus;
      assert.deepEqual(Object.keys(doc.hosts), ["minion01", "minion02", "minion03"]);
      for (const h of Object.values(doc.hosts)) assert.ok(h.outcome === "ok" || (h.outcome === "running" && isJobId(h.minionJobId)), JSON.stringify(h));
      assert.equal(doc.dispatcher.done, true);
      assert.ok(doc.dispatcher.redispatched >= 1);

      const wait = await func(fleet.home, ["job", "wait", id, "--json"]);
      assert.equal(wait.code, 0, wait.stderr);
      for (const h of Object.values<{ outcome: string; value: unknown }>(JSON.parse(wait.stdout).hosts)) assert.deepEqual([h.outcome, h.value], ["ok", 15]);
      for (const host of ["minion01", "minion02", "minion03"]) assert.equal((await minionJobsFor(fleet.home, host, id)).length, 1, `${host} ran it once`);
    } finally {
      thaw();
      await o.close();
    }
  });

  it("a call the dead dispatcher sent but never recorded is not run again: the minion returns the job it started", async () => {
    const thaw = freeze(fleet, ["minion02", "minion03"]);
    const o = new Overlord("*", { home: fleet.home });
    try {
      const id = await o.callAsync("test", "add", [1, 1]);
      await dispatched(o, id, "minion01");
      const st = await o.jobStatus(id, { poll: false });
      process.kill(st.dispatcher.pid!, "SIGKILL");
      await until("the dispatcher gone", () => (processRunning(st.dispatcher.pid, id) ? undefined : true));
      thaw();
      // what the dispatcher had in flight when it died: minion02 started the job, the store never heard
      let inFlight: string | undefined;
      await o.fanOut(o.addresses(["minion02"]), { method: "async.test.add", params: [1, 1], timeoutMs: 10_000, headers: { [JOB_ID_HEADER]: id } }, (_h, res) => {
        if (res.outcome === "ok") inFlight = res.value as string;
      });
      assert.ok(isJobId(inFlight));
      const done = await o.waitJob(id, { timeoutMs: 30_000 });
      assert.equal(done.status, "FINISHED");
      assert.equal(done.hosts.minion02!.minionJobId, inFlight);
      for (const h of Object.values(done.hosts)) assert.equal(h.outcome === "ok" && h.value, 2);
      assert.equal((await minionJobsFor(fleet.home, "minion02", id)).length, 1);
    } finally {
      thaw();
      await o.close();
    }
  });
});
