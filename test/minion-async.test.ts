// A real minion (startMinion: mutual TLS on 127.20.0.x, real detached runners, real LMDB) answering
// `async.` calls and `jobs.*`: ids at once, Func's status codes, idempotency by the x-func-job header,
// the cap (fault 5), a killed runner reported lost, result cap, retention, and a broken store.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOB_ID_HEADER, JOB_STATUS, isJobId, newJobId, processRunning, type HostResult, type MinionConfig } from "@func/shared";
import { RESULT_CUT_MARKER, startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport, type MinionAddress } from "@func/overlord";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";
import { until } from "./helpers/jobs.js";

const NAME = "minion-async";

describe("minion async jobs (in-process funcd, real runners)", function () {
  this.timeout(60_000);
  let dir: string;
  let pki: TestPki;
  let minion: StartedMinion;
  let transport: MinionTransport;
  let target: MinionAddress;

  async function start(address: string, overrides: Partial<MinionConfig> = {}): Promise<StartedMinion> {
    const m = await startMinion(pki.paths, { listenAddr: address, listenPort: 0, ...overrides });
    target = { name: NAME, host: m.address, port: m.port };
    return m;
  }

  const call = (method: string, params: unknown[] = [], headers?: Record<string, string>): Promise<HostResult> =>
    transport.call(target, method, params, { timeoutMs: 10_000, ...(headers ? { headers } : {}) });

  async function value(method: string, params: unknown[] = [], headers?: Record<string, string>): Promise<unknown> {
    const r = await call(method, params, headers);
    assert.equal(r.outcome, "ok", JSON.stringify(r));
    return (r as { value: unknown }).value;
  }

  const status = (id: string) => value("jobs.job_status", [id]) as Promise<[number, unknown]>;
  const finished = (id: string) =>
    until(`job ${id} to end`, async () => {
      const s = await status(id);
      return s[0] === JOB_STATUS.RUNNING ? undefined : s;
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-masync-"));
    pki = await makeMinionHome(dir, NAME, "127.20.0.2");
    transport = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    minion = await start("127.20.0.2", { maxAsyncJobs: 3, asyncResultCap: 4096, jobRetentionS: 3 });
  });
  after(async () => {
    transport?.close();
    await minion?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("async.test.sleep answers a job id at once; jobs.job_status goes RUNNING -> FINISHED [1, value]", async () => {
    const id = (await value("async.test.sleep", [1])) as string;
    assert.ok(isJobId(id), id);
    assert.deepEqual(await status(id), [JOB_STATUS.RUNNING, null]);
    const [code, woke] = await finished(id);
    assert.equal(code, JOB_STATUS.FINISHED);
    assert.ok(typeof woke === "number" && woke > Date.now() / 1000 - 30);
  });

  it("a method that raises is REMOTE_ERROR [4, {faultCode, faultString}]", async () => {
    const id = (await value("async.test.explode", ["kaboom"])) as string;
    assert.deepEqual(await finished(id), [JOB_STATUS.REMOTE_ERROR, { faultCode: 1, faultString: "MethodError: kaboom" }]);
  });

  it("an unknown id is LOST_IN_SPACE with a reason; a malformed id is a fault 4", async () => {
    const [code, result] = await status(newJobId());
    assert.equal(code, JOB_STATUS.LOST_IN_SPACE);
    assert.match((result as { reason: string }).reason, /no such job/);
    const bad = await call("jobs.job_status", ["../../etc/passwd"]);
    assert.equal(bad.outcome === "error" && bad.error.code, 4);
  });

  it("jobs.* cannot run as async jobs themselves", async () => {
    const r = await call("async.jobs.list");
    assert.equal(r.outcome, "error");
    assert.match(JSON.stringify(r), /cannot run as an async job/);
  });

  it("the same x-func-job key (same peer, same method) gets the same minion job: the method runs once", async () => {
    const key = newJobId();
    const headers = { [JOB_ID_HEADER]: key };
    const a = await value("async.test.add", [20, 22], headers);
    const b = await value("async.test.add", [20, 22], headers);
    assert.equal(a, b);
    const other = await value("async.test.add", [20, 22], { [JOB_ID_HEADER]: newJobId() });
    assert.notEqual(other, a);
    const listed = (await value("jobs.list")) as { id: string; overlord_job?: string }[];
    assert.equal(listed.filter((j) => j.overlord_job === key).length, 1);
    assert.deepEqual(await finished(a as string), [JOB_STATUS.FINISHED, 42]);
    assert.deepEqual(await finished(other as string), [JOB_STATUS.FINISHED, 42]);
  });

  it("the cap on running jobs answers fault 5, and frees up when they end", async () => {
    await until("no job running", async () => (((await value("jobs.list")) as { status: number }[]).some((j) => j.status === JOB_STATUS.RUNNING) ? undefined : true));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await value("async.test.sleep", [2])) as string);
    const refused = await call("async.test.ping");
    assert.equal(refused.outcome, "error");
    assert.equal(refused.outcome === "error" && refused.error.code, 5);
    assert.match(JSON.stringify(refused), /max_async_jobs = 3/);
    for (const id of ids) await finished(id);
    assert.ok(isJobId(await value("async.test.ping")));
  });

  it("a runner killed with SIGKILL makes its job LOST_IN_SPACE with the reason, not RUNNING forever", async () => {
    const id = (await value("async.test.sleep", [60])) as string;
    const rec = await until("the runner pid", async () => ((await value("jobs.list")) as { id: string; pid?: number }[]).find((j) => j.id === id && j.pid));
    assert.ok(processRunning(rec.pid, id));
    process.kill(rec.pid!, "SIGKILL");
    const [code, result] = await finished(id);
    assert.equal(code, JOB_STATUS.LOST_IN_SPACE);
    assert.match((result as { reason: string }).reason, new RegExp(`runner \\(pid ${rec.pid}\\) exited without writing a result`));
  });

  it("long output is kept up to async_result_cap, with a marker where it was cut", async () => {
    const id = (await value("async.command.run", ["head -c 20000 /dev/zero | tr '\\0' x"])) as string;
    const [code, result] = await finished(id);
    assert.equal(code, JOB_STATUS.FINISHED);
    const out = (result as { stdout: string; rc: number }).stdout;
    assert.equal((result as { rc: number }).rc, 0);
    assert.ok(out.endsWith(RESULT_CUT_MARKER), "cut output ends with the marker");
    assert.ok(out.length > 2000 && out.length < 4096, `kept ${out.length} chars`);
  });

  it("ended jobs expire after job_retention (purged by funcd itself); jobs.purge is the overlord's", async () => {
    const id = (await value("async.test.ping")) as string;
    await finished(id);
    await until("the retention purge", async () => ((await status(id))[0] === JOB_STATUS.LOST_IN_SPACE ? true : undefined), 20_000, 250);
    assert.equal(typeof (await value("jobs.purge", [0])), "number");
  });

  it("a job store that cannot be opened fails async calls with a fault, and funcd keeps serving", async () => {
    await minion.close();
    const broken = join(dir, "broken");
    mkdirSync(broken, { recursive: true });
    // a file where the store's directory should be
    writeFileSync(join(broken, "minion-jobs"), "not a directory");
    const paths = { ...pki.paths, stateDir: broken, minionJobsDir: join(broken, "minion-jobs") };
    minion = await startMinion(paths, { listenAddr: "127.20.0.3", listenPort: 0 });
    target = { name: NAME, host: minion.address, port: minion.port };
    const r = await call("async.test.ping");
    assert.equal(r.outcome, "error");
    assert.ok(r.outcome === "error" && [1, 5].includes(r.error.code), JSON.stringify(r));
    assert.match(JSON.stringify(r), /job store/);
    assert.equal(await value("test.ping"), 1);
  });
});
