// The overlord's job store on a real LMDB in a temp dir, and the pure rules over it: per-host keys, a
// minion job id is never overwritten, a final host stays final, status derivation, listing newest first
// with paging, purge never touching a job with an open host, and reading minions' answers.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOB_STATUS, newJobId } from "@func/shared";
import { deriveJobState, readDispatchReply, readStatusReply, type JobRecord } from "@func/overlord";
import { JobStore } from "@func/overlord/job-store";
import { seedSynthetic } from "./helpers/synthetic-jobs.js";

const HOUR = 3600_000;

function record(hosts: string[], created = Date.now()): JobRecord {
  return {
    id: newJobId(new Date(created)),
    spec: "*",
    module: "test",
    method: "add",
    args: [1, 2],
    created,
    deadline: created + 24 * HOUR,
    hosts,
    dispatch: { forks: 1, concurrency: 10, timeoutMs: 5000 },
  };
}

describe("overlord job store (LMDB)", () => {
  let dir: string;
  let store: JobStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-ojs-"));
    store = await JobStore.open(join(dir, "jobs"));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each host in its own key: recording one never changes another", async () => {
    const job = record(["a", "b", "c"]);
    await store.create(job);
    assert.deepEqual(store.job(job.id), job);
    assert.deepEqual(store.hostStates(job.id), {});
    const mA = newJobId();
    await store.recordMinionJob(job.id, "a", mA, 1000);
    const before = store.hostStates(job.id);
    await store.recordFinal(job.id, "b", { outcome: "unreachable", error: { code: 0, type: "ECONNREFUSED", message: "refused" } }, 2000);
    const after = store.hostStates(job.id);
    assert.deepEqual(after.a, before.a);
    assert.deepEqual(Object.keys(after).sort(), ["a", "b"]);
    await assert.rejects(store.create(job), /exists already/);
  });

  it("never overwrites a minion job id, and a final outcome keeps it and stays final", async () => {
    const job = record(["a"]);
    await store.create(job);
    const first = newJobId();
    await store.recordMinionJob(job.id, "a", first);
    assert.equal((await store.recordMinionJob(job.id, "a", newJobId())).minionJobId, first);
    await store.recordFinal(job.id, "a", { outcome: "ok", value: 3 });
    assert.deepEqual(store.hostStates(job.id).a?.minionJobId, first);
    assert.deepEqual(store.hostStates(job.id).a?.result, { outcome: "ok", value: 3 });
    await store.recordFinal(job.id, "a", { outcome: "lost", error: { code: 0, type: "X", message: "late" } });
    assert.deepEqual(store.hostStates(job.id).a?.result, { outcome: "ok", value: 3 }, "the first final outcome stays");
    await store.recordMinionJob(job.id, "a", newJobId());
    assert.equal(store.hostStates(job.id).a?.minionJobId, first);
  });

  it("derives RUNNING (a host not dispatched), PARTIAL (hosts open), FINISHED (all final)", async () => {
    const job = record(["a", "b"]);
    await store.create(job);
    assert.equal(deriveJobState(job.hosts, store.hostStates(job.id)).status, "RUNNING");
    await store.recordMinionJob(job.id, "a", newJobId());
    const running = deriveJobState(job.hosts, store.hostStates(job.id));
    assert.deepEqual([running.status, running.open, running.pending], ["RUNNING", ["a"], ["b"]]);
    await store.recordFinal(job.id, "b", { outcome: "unreachable", error: { code: 0, type: "ECONNREFUSED", message: "refused" } });
    assert.equal(deriveJobState(job.hosts, store.hostStates(job.id)).status, "PARTIAL");
    await store.recordFinal(job.id, "a", { outcome: "ok", value: 3 });
    const done = deriveJobState(job.hosts, store.hostStates(job.id));
    assert.equal(done.status, "FINISHED");
    assert.equal(done.done, 2);
    assert.deepEqual([done.summary.ok, done.summary.unreachable], [1, 1]);
  });

  it("updates the bookkeeping by merging, never replacing", async () => {
    const job = record(["a"]);
    await store.create(job);
    await store.updateMeta(job.id, { dispatcherPid: 123 });
    await store.updateMeta(job.id, { dispatchDone: true });
    assert.deepEqual(store.meta(job.id), { dispatcherPid: 123, dispatchDone: true });
  });

  it("lists newest first, with a limit, and pages on with `before`", async () => {
    const now = Date.now();
    const ids: string[] = [];
    for (const i of [0, 1, 2, 3, 4]) {
      const job = record(["a"], now - (5 - i) * 1000);
      await store.create(job);
      ids.push(job.id);
    }
    assert.deepEqual(store.list({ limit: 3 }).map((j) => j.job.id), [ids[4], ids[3], ids[2]]);
    assert.deepEqual(store.list({ limit: 3, before: ids[2] }).map((j) => j.job.id), [ids[1], ids[0]]);
    assert.equal(store.count(), 5);
  });

  it("purges jobs finished before the retention period, never one with an open or undispatched host", async () => {
    const now = Date.now();
    const oldDone = record(["a"], now - 10 * HOUR);
    const oldOpen = record(["a", "b"], now - 10 * HOUR);
    const oldPending = record(["a"], now - 10 * HOUR);
    const recentDone = record(["a"], now - HOUR);
    for (const j of [oldDone, oldOpen, oldPending, recentDone]) await store.create(j);
    await store.recordFinal(oldDone.id, "a", { outcome: "ok", value: 1 }, now - 9 * HOUR);
    await store.recordFinal(oldOpen.id, "a", { outcome: "ok", value: 1 }, now - 9 * HOUR);
    await store.recordMinionJob(oldOpen.id, "b", newJobId(), now - 9 * HOUR);
    await store.recordFinal(recentDone.id, "a", { outcome: "ok", value: 1 }, now - HOUR);
    assert.equal(await store.purge(2 * 3600, now), 1);
    assert.equal(store.job(oldDone.id), undefined);
    assert.deepEqual(store.hostStates(oldDone.id), {}, "its host keys go too");
    for (const kept of [oldOpen, oldPending, recentDone]) assert.ok(store.job(kept.id), `${kept.id} kept`);
    assert.equal(store.count(), 3);
  });

  it("imports finished jobs in large transactions and lists the newest from a big store", async () => {
    const ids = await seedSynthetic(store, 20_000, { hostsPerJob: 2 });
    assert.equal(ids.length, 20_000);
    assert.equal(store.count(), 20_000);
    const started = performance.now();
    const newest = store.list({ limit: 50 });
    const ms = performance.now() - started;
    assert.equal(newest.length, 50);
    assert.equal(newest[0]!.job.id, ids[ids.length - 1]);
    assert.equal(newest[0]!.meta.summary?.ok, 2);
    // generous: a reverse range read of 50 keys, not a scan of 20 000 records
    assert.ok(ms < 2000, `list took ${ms} ms`);
  });
});

describe("reading minions' answers", () => {
  it("maps jobs.job_status [code, result] to outcomes; malformed answers are errors, never guesses", () => {
    assert.deepEqual(readStatusReply([JOB_STATUS.RUNNING, null]), { running: true });
    assert.deepEqual(readStatusReply([JOB_STATUS.FINISHED, { a: 1 }]), { final: { outcome: "ok", value: { a: 1 } } });
    assert.deepEqual(readStatusReply([JOB_STATUS.REMOTE_ERROR, { faultCode: 1, faultString: "MethodError: boom" }]), {
      final: { outcome: "error", error: { code: 1, type: "MethodError", message: "boom" } },
    });
    const lost = readStatusReply([JOB_STATUS.LOST_IN_SPACE, { reason: "runner died" }]);
    assert.deepEqual(lost, { final: { outcome: "lost", error: { code: 0, type: "LostInSpace", message: "runner died" } } });
    for (const bad of [null, "x", [1], [9, null], ["0", null]]) {
      const r = readStatusReply(bad);
      assert.ok("final" in r && r.final.outcome === "error", JSON.stringify(bad));
    }
  });

  it("a dispatch answer is a minion job id, a final outcome, or worth another try", () => {
    const id = newJobId();
    assert.deepEqual(readDispatchReply({ outcome: "ok", value: id }), { minionJobId: id });
    const notAnId = readDispatchReply({ outcome: "ok", value: "1215030394.28-minion" });
    assert.ok("final" in notAnId && notAnId.final.outcome === "error");
    const denied = { outcome: "denied" as const, error: { code: 3, type: "AccessDenied", message: "no" } };
    assert.deepEqual(readDispatchReply(denied), { final: denied });
    const refused = { outcome: "unreachable" as const, error: { code: 0, type: "ECONNREFUSED", message: "refused" } };
    assert.deepEqual(readDispatchReply(refused), { retry: refused });
  });
});
