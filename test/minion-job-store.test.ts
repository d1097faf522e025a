// The minion's job store on a real LMDB in a temp dir: idempotency, the cap, first final status wins,
// retention purges ended jobs and never running ones; the runner's spool files; and the async result cap.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULTS, JOB_STATUS, homePaths, newJobId } from "@func/shared";
import {
  MinionJobStore,
  RESULT_CUT_MARKER,
  capResult,
  readJobFile,
  readResultFile,
  removeSpool,
  valueSize,
  writeJobFile,
  writeResultFile,
  type MinionJob,
} from "@func/minion";

const CONFIG = { ...DEFAULTS.minion, minionName: "m", aclDir: "/nonexistent", auditLog: "/dev/null" };

function job(overrides: Partial<MinionJob> = {}): MinionJob {
  return {
    id: newJobId(),
    method: "test.add",
    args: [1, 2],
    peerCn: "overlord@test",
    peerRole: "overlord",
    address: "127.0.0.1",
    created: Date.now(),
    status: JOB_STATUS.RUNNING,
    ...overrides,
  };
}

describe("minion job store (LMDB)", () => {
  let dir: string;
  let store: MinionJobStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "func-mjs-"));
    store = new MinionJobStore(homePaths(dir).minionJobsDir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a repeat of (overlord job, peer, method) returns the existing job; another peer or method gets a new one", () => {
    const key = newJobId();
    const first = store.begin(job({ overlordJob: key }), 10);
    assert.ok("id" in first && !first.existing);
    const again = store.begin(job({ overlordJob: key }), 10);
    assert.deepEqual(again, { id: first.id, existing: true });
    const otherPeer = store.begin(job({ overlordJob: key, peerCn: "someone-else" }), 10);
    const otherMethod = store.begin(job({ overlordJob: key, method: "test.ping", args: [] }), 10);
    const noKey = store.begin(job(), 10);
    const ids = [first, otherPeer, otherMethod, noKey].map((b) => ("id" in b ? b.id : "full"));
    assert.equal(new Set(ids).size, 4);
    assert.equal(store.runningIds().length, 4);
  });

  it("refuses a new job when `cap` are running, and has room again once one ends", () => {
    const a = store.begin(job(), 2);
    store.begin(job(), 2);
    assert.deepEqual(store.begin(job(), 2), { full: 2 });
    assert.ok("id" in a);
    assert.equal(store.finish(a.id, JOB_STATUS.FINISHED, 3).changed, true);
    assert.ok("id" in store.begin(job(), 2));
  });

  it("keeps the first final status: a late LOST never overwrites FINISHED", () => {
    const b = store.begin(job(), 10);
    assert.ok("id" in b);
    store.setPid(b.id, 4242);
    assert.equal(store.get(b.id)?.pid, 4242);
    assert.equal(store.finish(b.id, JOB_STATUS.FINISHED, { big: "value" }).changed, true);
    const late = store.finish(b.id, JOB_STATUS.LOST_IN_SPACE, { reason: "late" });
    assert.equal(late.changed, false);
    assert.equal(late.job?.status, JOB_STATUS.FINISHED);
    assert.deepEqual(store.get(b.id)?.result, { big: "value" });
    store.setPid(b.id, 1);
    assert.equal(store.get(b.id)?.pid, 4242, "a pid is not recorded on an ended job");
  });

  it("abandon removes a job and its idempotency entry, so a retry may start it", () => {
    const key = newJobId();
    const b = store.begin(job({ overlordJob: key }), 10);
    assert.ok("id" in b);
    store.abandon(b.id);
    assert.equal(store.get(b.id), undefined);
    const retry = store.begin(job({ overlordJob: key }), 10);
    assert.ok("id" in retry && !retry.existing && retry.id !== b.id);
  });

  it("purges jobs that ended before the retention period, never running ones; list is newest first, without results", () => {
    const now = Date.now();
    const old = store.begin(job({ created: now - 10_000 }), 10);
    const recent = store.begin(job({ created: now - 5_000 }), 10);
    const running = store.begin(job({ created: now - 100_000 }), 10);
    assert.ok("id" in old && "id" in recent && "id" in running);
    store.finish(old.id, JOB_STATUS.FINISHED, "x".repeat(1000), now - 9_000);
    store.finish(recent.id, JOB_STATUS.REMOTE_ERROR, { faultCode: 1, faultString: "MethodError: boom" }, now - 1_000);
    assert.equal(store.purge(5, now), 1);
    assert.equal(store.get(old.id), undefined);
    assert.equal(store.get(recent.id)?.status, JOB_STATUS.REMOTE_ERROR);
    assert.equal(store.get(running.id)?.status, JOB_STATUS.RUNNING);
    assert.equal(store.purge(0, now + 1), 1, "a zero retention takes every ended job");
    assert.equal(store.get(running.id)?.status, JOB_STATUS.RUNNING, "running jobs are never purged");
    const listed = store.list();
    assert.deepEqual(listed.map((j) => j.id), [running.id]);
    assert.equal("result" in listed[0]!, false);
  });
});

describe("runner spool files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "func-spool-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips a job and a result, bytes included, and removes both", () => {
    const id = newJobId();
    const runDir = join(dir, "run");
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    writeJobFile(runDir, { id, method: "test.echo", args: [{ raw: bytes, n: 1.5 }], peerCn: "o", peerRole: "overlord", address: "::1", config: CONFIG });
    const job = readJobFile(runDir, id)!;
    assert.deepEqual(job.args, [{ raw: bytes, n: 1.5 }]);
    assert.ok(Buffer.isBuffer((job.args[0] as { raw: Buffer }).raw));
    assert.equal(job.config.maxAsyncJobs, CONFIG.maxAsyncJobs);
    assert.equal(readResultFile(runDir, id), undefined);
    writeResultFile(runDir, id, { status: JOB_STATUS.FINISHED, result: [bytes, "ok"] });
    assert.deepEqual(readResultFile(runDir, id), { status: JOB_STATUS.FINISHED, result: [bytes, "ok"] });
    removeSpool(runDir, id);
    assert.equal(readJobFile(runDir, id), undefined);
    assert.equal(readResultFile(runDir, id), undefined);
    // a runner never recreates a run directory that was removed (its minion home is gone)
    rmSync(runDir, { recursive: true });
    assert.throws(() => writeResultFile(runDir, id, { status: JOB_STATUS.FINISHED, result: 1 }), /ENOENT/);
  });
});

describe("async result cap", () => {
  it("leaves a value that fits alone", () => {
    const value = { rc: 0, stdout: "hello\n", stderr: "" };
    assert.deepEqual(capResult(value, 1024), { value, cut: false });
  });

  it("cuts the longest strings, marks each cut, keeps short ones whole and the whole under the cap", () => {
    const value = { rc: 0, stdout: "a".repeat(100_000), stderr: "b".repeat(30_000), note: "short" };
    const cap = 20_000;
    const { value: cut, cut: wasCut } = capResult(value, cap);
    const v = cut as typeof value;
    assert.equal(wasCut, true);
    assert.ok(valueSize(cut) <= cap, `${valueSize(cut)} > ${cap}`);
    assert.equal(v.note, "short");
    assert.equal(v.rc, 0);
    assert.ok(v.stdout.endsWith(RESULT_CUT_MARKER) && v.stderr.endsWith(RESULT_CUT_MARKER));
    assert.ok(v.stdout.startsWith("aaaa") && v.stdout.length > 5_000, "the kept part is most of the room");
  });

  it("never splits a UTF-8 character", () => {
    const { value } = capResult("é".repeat(10_000), 1001);
    const s = value as string;
    assert.ok(!s.includes("\ufffd"));
    assert.ok(s.endsWith(RESULT_CUT_MARKER));
  });

  it("replaces a value too big without its text by a note", () => {
    const { value, cut } = capResult(Array.from({ length: 5000 }, (_, i) => i), 1024);
    assert.equal(cut, true);
    assert.match(value as string, /dropped: over async_result_cap/);
  });
});
