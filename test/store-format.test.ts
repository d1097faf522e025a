// Store format versions (issue 15): every store func persists records the version it is written in. A store
// written before versions (no version recorded) is read as format 1 with its jobs intact and stamped; a newer one
// is refused by the real binaries (funcd exit 2, func exit 1) with one line naming the file and both versions,
// and its bytes are not changed. Real LMDB in temp dirs; the pre-version layouts are written by hand.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type Key, type RootDatabase } from "lmdb";
import { FuncError, JOB_STATUS, STORE_FORMATS, checkStoreFormat, homePaths, newJobId, type HomePaths } from "@func/shared";
import { LMDB_DATA_FILE, LMDB_FORMAT_KEY, openLmdb } from "@func/shared/lmdb-store";
import { readResultFile, startMinion, writeResultFile } from "@func/minion";
import { MinionTransport } from "@func/overlord";
import { JobStore } from "@func/overlord/job-store";
import { FUNCD_BIN, FUNC_BIN, FUNC_CA_BIN, REPO, runBin } from "./helpers/fleet.js";
import { until } from "./helpers/jobs.js";
import { makeMinionHome } from "./helpers/pki.js";

const FUNC_WEB_BIN = join(REPO, "packages/web/dist/bin/func-web.js");

/** The test's loopback subnet (this file's own: 127.140.0.0/16). */
const ADDR = "127.140.0.2";
/** A format no func writes yet. */
const FUTURE = 99;
const DISPATCH = { forks: 1, concurrency: 64, timeoutMs: 10_000 };

/** The store's LMDB as plain lmdb-js sees it: what func wrote before versions existed, or a future func. */
function rawDb(dir: string): RootDatabase<unknown, Key> {
  mkdirSync(dir, { recursive: true });
  return open<unknown, Key>({ path: join(dir, LMDB_DATA_FILE), compression: false });
}

/** Every key and value of a store, in order: what "unchanged" is compared by (beside the file's bytes). */
function dump(dir: string): string {
  const db = rawDb(dir);
  try {
    return JSON.stringify([...db.getRange({})].map(({ key, value }) => [key, value]));
  } finally {
    void db.close();
  }
}

function snapshot(dir: string): { bytes: Buffer; keys: string } {
  return { bytes: readFileSync(join(dir, LMDB_DATA_FILE)), keys: dump(dir) };
}

function assertUnchanged(dir: string, before: { bytes: Buffer; keys: string }): void {
  assert.ok(readFileSync(join(dir, LMDB_DATA_FILE)).equals(before.bytes), `${dir}: the data file's bytes changed`);
  assert.equal(dump(dir), before.keys);
}

/** One line on stderr that names `file`, the store's version and this func's, and what to do; no stack trace. */
function assertRefusal(stderr: string, file: string): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  const line = lines[0]!;
  assert.ok(line.includes(file), `names ${file}: ${line}`);
  assert.match(line, new RegExp(`format ${FUTURE}\\b`));
  assert.match(line, /format 1 which this func supports/);
  assert.match(line, /upgrade func .* or restore a backup/);
  assert.doesNotMatch(stderr, /\n\s+at |Error:/);
}

describe("store format versions", function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "func-storefmt-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("the check: no version is format 1, a newer one is a ConfigError naming the file and both versions, garbage a StoreError", () => {
    const f = STORE_FORMATS.overlordJobs;
    assert.equal(checkStoreFormat(f, "/x", undefined), 1);
    assert.equal(checkStoreFormat(f, "/x", 1), 1);
    assert.throws(
      () => checkStoreFormat(f, "/srv/jobs/data.mdb", 2),
      (e: unknown) => e instanceof FuncError && e.type === "ConfigError" && /\/srv\/jobs\/data\.mdb is overlord job store format 2, newer than format 1/.test(e.message),
    );
    for (const bad of ["2", 0, -1, 1.5, null, {}]) {
      assert.throws(() => checkStoreFormat(f, "/x", bad), (e: unknown) => e instanceof FuncError && e.type === "StoreError", String(bad));
    }
  });

  it("an overlord job store in the pre-version layout is read with its jobs intact, and stamped format 1", async () => {
    const jobs = join(dir, "jobs");
    const id = newJobId();
    const created = Date.now() - 5000;
    const db = rawDb(jobs);
    await db.put(["job", id], { id, spec: "*", module: "test", method: "ping", args: [], created, deadline: created + 60_000, hosts: ["a", "b"], dispatch: DISPATCH });
    await db.put(["job", id, "a"], { minionJobId: "20260101T000000-0000000001", result: { outcome: "ok", value: 1 }, updated: created });
    await db.put(["job", id, "b"], { minionJobId: "20260101T000000-0000000002", updated: created });
    await db.put(["meta", id], { dispatchDone: true });
    await db.put(["created", created, id], true);
    await db.close();

    const store = await JobStore.open(jobs);
    try {
      assert.equal(store.job(id)?.spec, "*");
      assert.deepEqual(Object.keys(store.hostStates(id)).sort(), ["a", "b"]);
      assert.deepEqual(store.hostStates(id).a!.result, { outcome: "ok", value: 1 });
      assert.equal(store.hostStates(id).b!.minionJobId, "20260101T000000-0000000002");
      assert.deepEqual(store.meta(id), { dispatchDone: true });
      assert.deepEqual(store.list().map((j) => j.job.id), [id]);
      assert.equal(store.count(), 1);
    } finally {
      await store.close();
    }
    const raw = rawDb(jobs);
    assert.equal(raw.get(LMDB_FORMAT_KEY), STORE_FORMATS.overlordJobs.version);
    await raw.close();
  });

  it("a new store records its format with its first write (opening an empty store writes nothing)", async () => {
    const jobs = join(dir, "jobs");
    const store = await JobStore.open(jobs);
    try {
      assert.equal(dump(jobs), "[]");
      const now = Date.now();
      await store.create({ id: newJobId(), spec: "*", module: "test", method: "ping", args: [], created: now, deadline: now, hosts: [], dispatch: DISPATCH });
    } finally {
      await store.close();
    }
    const raw = rawDb(jobs);
    assert.equal(raw.get(LMDB_FORMAT_KEY), STORE_FORMATS.overlordJobs.version);
    await raw.close();
  });

  it("migrations run in the open's transaction, once: a failed step leaves the store as it was", async () => {
    const store = join(dir, "s");
    const db = rawDb(store);
    await db.put(["job", "x"], { n: 1 });
    await db.close();
    const before = snapshot(store);
    const v2 = { version: 2, label: "test store" };
    assert.throws(
      () =>
        openLmdb(store, v2, [
          (d) => {
            void d.put(["job", "x"], { n: 2 });
            throw new Error("step failed");
          },
        ]),
      /step failed/,
    );
    assert.equal(dump(store), before.keys, "nothing of the failed migration was written");
    let runs = 0;
    const step = (d: RootDatabase<unknown, Key>) => {
      runs++;
      const cur = d.get(["job", "x"]) as { n: number };
      void d.put(["job", "x"], { n: cur.n + 1 });
    };
    for (let i = 0; i < 2; i++) void openLmdb(store, v2, [step]).close();
    assert.equal(runs, 1);
    const raw = rawDb(store);
    assert.deepEqual([raw.get(["job", "x"]), raw.get(LMDB_FORMAT_KEY)], [{ n: 2 }, 2]);
    await raw.close();
  });

  it("`func job status` and `func job list` refuse a newer overlord job store with one line, exit 1, store unchanged", async () => {
    const home = homePaths(dir);
    const id = newJobId();
    const store = await JobStore.open(home.jobsDir);
    await store.create({ id, spec: "*", module: "test", method: "ping", args: [], created: Date.now(), deadline: Date.now() + 60_000, hosts: ["a"], dispatch: DISPATCH });
    await store.close();
    const raw = rawDb(home.jobsDir);
    await raw.put(LMDB_FORMAT_KEY, FUTURE);
    await raw.close();
    const before = snapshot(home.jobsDir);
    for (const args of [["job", "status", id], ["job", "list"]]) {
      const r = await runBin(FUNC_BIN, args, { FUNC_HOME: dir });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assertRefusal(r.stderr, join(home.jobsDir, LMDB_DATA_FILE));
      assertUnchanged(home.jobsDir, before);
    }
  });

  it("a spooled sync run: a pre-version one is imported, a newer one is refused by `func job list` and left in the spool", async () => {
    const home = homePaths(dir);
    const spool = `${home.jobsDir}-spool`;
    mkdirSync(spool, { recursive: true });
    // a home as `func` keeps it: an overlord.conf beside the state
    writeFileSync(home.overlordConf, "[main]\n");
    const old = newJobId();
    const now = Date.now();
    const run = (id: string, extra: object) =>
      JSON.stringify({
        ...extra,
        job: { id, spec: "a", module: "test", method: "ping", args: [], created: now, deadline: now, hosts: ["a"], dispatch: DISPATCH },
        hosts: { a: { result: { outcome: "ok", value: 1 }, updated: now } },
        meta: { dispatchDone: true, finished: now, summary: { ok: 1 } },
      });
    writeFileSync(join(spool, `${old}.json`), run(old, {}));
    let r = await runBin(FUNC_BIN, ["job", "list", "--json"], { FUNC_HOME: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(old), r.stdout);
    assert.deepEqual(readdirSync(spool), []);

    const future = newJobId();
    const file = join(spool, `${future}.json`);
    writeFileSync(file, run(future, { format: FUTURE }));
    const bytes = readFileSync(file);
    r = await runBin(FUNC_BIN, ["job", "list"], { FUNC_HOME: dir });
    assert.equal(r.code, 1, r.stderr);
    assertRefusal(r.stderr, file);
    assert.ok(readFileSync(file).equals(bytes), "the spooled run is left as it was");
  });

  it("funcd refuses a newer minion job store at start: exit 2, one line, store unchanged", async () => {
    const pki = await makeMinionHome(dir, "storefmt", ADDR);
    const raw = rawDb(pki.paths.minionJobsDir);
    await raw.put(["job", "20260101T000000-00000000aa"], { id: "20260101T000000-00000000aa", status: JOB_STATUS.FINISHED });
    await raw.put(LMDB_FORMAT_KEY, FUTURE);
    await raw.close();
    const before = snapshot(pki.paths.minionJobsDir);
    const r = await runBin(FUNCD_BIN, ["--home", dir, "--listen", ADDR, "--port", "0"]);
    assert.equal(r.code, 2, r.stderr);
    assertRefusal(r.stderr.replace(/^funcd: /, ""), join(pki.paths.minionJobsDir, LMDB_DATA_FILE));
    assert.match(r.stderr, /^funcd: /);
    assertUnchanged(pki.paths.minionJobsDir, before);
  });

  it("a minion job store in the pre-version layout: funcd reports its finished job and starts new ones", async () => {
    const pki = await makeMinionHome(dir, "storefmt", ADDR);
    const id = newJobId();
    const created = Date.now() - 10_000;
    const raw = rawDb(pki.paths.minionJobsDir);
    await raw.put(["job", id], {
      id,
      method: "test.ping",
      args: [],
      peerCn: "overlord@test",
      peerRole: "overlord",
      address: "127.0.0.1",
      created,
      status: JOB_STATUS.FINISHED,
      pid: 1,
      finished: created + 1,
      result: 1,
    });
    await raw.put(["finished", created + 1, id], true);
    await raw.close();
    const minion = await startMinion(pki.paths, { listenAddr: ADDR, listenPort: 0 });
    const transport = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    try {
      const target = { name: "storefmt", host: minion.address, port: minion.port };
      const st = await transport.call(target, "jobs.job_status", [id], { timeoutMs: 10_000 });
      assert.equal(st.outcome, "ok", JSON.stringify(st));
      assert.deepEqual(st.outcome === "ok" && st.value, [JOB_STATUS.FINISHED, 1]);
      const started = await transport.call(target, "async.test.ping", [], { timeoutMs: 10_000 });
      assert.equal(started.outcome, "ok", JSON.stringify(started));
    } finally {
      transport.close();
      await minion.close();
    }
    const after = rawDb(pki.paths.minionJobsDir);
    assert.equal(after.get(LMDB_FORMAT_KEY), STORE_FORMATS.minionJobs.version);
    await after.close();
  });

  it("an upgrade with a job running: funcd stopped, its store put back to the pre-version layout, a new funcd finishes the job once", async () => {
    const pki = await makeMinionHome(dir, "storefmt", ADDR);
    const transport = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    let minion = await startMinion(pki.paths, { listenAddr: ADDR, listenPort: 0 });
    try {
      let target = { name: "storefmt", host: minion.address, port: minion.port };
      const started = await transport.call(target, "async.test.sleep", [2], { timeoutMs: 10_000 });
      assert.equal(started.outcome, "ok", JSON.stringify(started));
      const id = (started as { value: string }).value;
      await minion.close();
      // the store as a funcd from before versions left it (its runner lives on: own session)
      const raw = rawDb(pki.paths.minionJobsDir);
      await raw.remove(LMDB_FORMAT_KEY);
      assert.equal((raw.get(["job", id]) as { status: number }).status, JOB_STATUS.RUNNING);
      await raw.close();
      minion = await startMinion(pki.paths, { listenAddr: ADDR, listenPort: 0 });
      target = { name: "storefmt", host: minion.address, port: minion.port };
      const done = await until(`job ${id} to end`, async () => {
        const st = await transport.call(target, "jobs.job_status", [id], { timeoutMs: 10_000 });
        if (st.outcome !== "ok") throw new Error(JSON.stringify(st));
        const value = st.value as [number, unknown];
        return value[0] === JOB_STATUS.RUNNING ? undefined : value;
      });
      assert.equal(done[0], JOB_STATUS.FINISHED, JSON.stringify(done));
      const listed = await transport.call(target, "jobs.list", [], { timeoutMs: 10_000 });
      if (listed.outcome !== "ok") throw new Error(JSON.stringify(listed));
      assert.equal((listed.value as { id: string }[]).filter((j) => j.id === id).length, 1, "one record of the job");
    } finally {
      transport.close();
      await minion.close();
    }
    const after = rawDb(pki.paths.minionJobsDir);
    assert.equal(after.get(LMDB_FORMAT_KEY), STORE_FORMATS.minionJobs.version);
    await after.close();
  });

  it("the filetracker's state: a pre-version directory is read and stamped by its first change; a newer one is refused", async () => {
    const pki = await makeMinionHome(dir, "storefmt", ADDR);
    const state = join(dir, "filetracker");
    mkdirSync(state);
    writeFileSync(join(state, "tracked.json"), JSON.stringify(["/etc/hostname"]));
    const minion = await startMinion(pki.paths, { listenAddr: ADDR, listenPort: 0 });
    const transport = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
    try {
      const target = { name: "storefmt", host: minion.address, port: minion.port };
      const call = (method: string, params: unknown[] = []) => transport.call(target, method, params, { timeoutMs: 10_000 });
      const listed = await call("filetracker.list");
      assert.deepEqual(listed.outcome === "ok" && listed.value, ["/etc/hostname"], JSON.stringify(listed));
      assert.equal(existsSync(join(state, "format.json")), false, "reading does not write");
      const tracked = await call("filetracker.track", [["/etc/hosts"]]);
      assert.equal(tracked.outcome, "ok", JSON.stringify(tracked));
      assert.deepEqual(JSON.parse(readFileSync(join(state, "format.json"), "utf8")), { format: STORE_FORMATS.filetracker.version });
      writeFileSync(join(state, "format.json"), JSON.stringify({ format: FUTURE }));
      const before = readFileSync(join(state, "tracked.json"));
      for (const [method, params] of [["filetracker.list", []], ["filetracker.track", [["/etc/passwd"]]]] as const) {
        const r = await call(method, [...params]);
        assert.equal(r.outcome, "error", JSON.stringify(r));
        assert.ok(r.outcome === "error" && r.error.message.includes(join(state, "format.json")) && r.error.message.includes(`format ${FUTURE}`), JSON.stringify(r));
      }
      assert.ok(readFileSync(join(state, "tracked.json")).equals(before), "tracked.json unchanged");
    } finally {
      transport.close();
      await minion.close();
    }
  });

  it("the runner spool: results carry their format; a pre-version result is read, a newer one refused and left", () => {
    const run = join(dir, "run");
    mkdirSync(run);
    const id = newJobId();
    writeResultFile(run, id, { status: JOB_STATUS.FINISHED, result: Buffer.from([0, 1, 2]) });
    const file = join(run, `${id}.result.json`);
    assert.equal((JSON.parse(readFileSync(file, "utf8")) as { format: number }).format, STORE_FORMATS.jobSpool.version);
    assert.deepEqual(readResultFile(run, id), { status: JOB_STATUS.FINISHED, result: Buffer.from([0, 1, 2]) });
    writeFileSync(file, JSON.stringify({ status: JOB_STATUS.FINISHED, result: "before versions" }));
    assert.deepEqual(readResultFile(run, id), { status: JOB_STATUS.FINISHED, result: "before versions" });
    writeFileSync(file, JSON.stringify({ format: FUTURE, status: JOB_STATUS.FINISHED, result: 1 }));
    const bytes = readFileSync(file);
    assert.throws(
      () => readResultFile(run, id),
      (e: unknown) => e instanceof FuncError && e.type === "ConfigError" && e.message.includes(file) && e.message.includes(`format ${FUTURE}`),
    );
    assert.ok(readFileSync(file).equals(bytes));
  });

  it("the CA directory: a pre-version one works and is stamped on its first change; a newer one is refused by func-ca and func", async () => {
    const home: HomePaths = homePaths(dir);
    const env = { FUNC_HOME: dir };
    let r = await runBin(FUNC_CA_BIN, ["init"], env);
    assert.equal(r.code, 0, r.stderr);
    const formatFile = join(home.caDir, "format.json");
    assert.deepEqual(JSON.parse(readFileSync(formatFile, "utf8")), { format: STORE_FORMATS.ca.version });
    // as func wrote it before versions: no format file
    rmSync(formatFile);
    r = await runBin(FUNC_CA_BIN, ["list"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(formatFile), false, "reading does not write");
    r = await runBin(FUNC_CA_BIN, ["issue", "ops-user", "--role", "user", "--out", join(dir, "ops")], env);
    assert.equal(r.code, 0, r.stderr);
    r = await runBin(FUNC_CA_BIN, ["revoke", "ops-user"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(formatFile, "utf8")), { format: 1 }, "stamped by the first change");

    writeFileSync(formatFile, JSON.stringify({ format: FUTURE }) + "\n");
    const files = () => readdirSync(home.caDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
    const before = files().map((f) => [f, readFileSync(f, "hex")]);
    for (const [bin, args] of [
      [FUNC_CA_BIN, ["list"]],
      [FUNC_CA_BIN, ["revoke", "nobody"]],
      [FUNC_BIN, ["*", "call", "test", "ping"]],
    ] as const) {
      r = await runBin(bin, [...args], env);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assertRefusal(r.stderr, formatFile);
    }
    assert.deepEqual(files().map((f) => [f, readFileSync(f, "hex")]), before, "nothing in pki/ca changed");
  });

  it("the delegation map and func-web's directory: written with their format, a newer one refused by func and func-web", async () => {
    const home = homePaths(dir);
    const env = { FUNC_HOME: dir };
    assert.equal((await runBin(FUNC_CA_BIN, ["init"], env)).code, 0);
    writeFileSync(home.delegationMap, JSON.stringify({ built: "before versions", subs: [] }));
    let r = await runBin(FUNC_BIN, ["map", "show"], env);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(home.delegationMap, JSON.stringify({ format: FUTURE, built: "later", subs: [] }));
    const mapBytes = readFileSync(home.delegationMap);
    r = await runBin(FUNC_BIN, ["map", "show"], env);
    assert.equal(r.code, 1, r.stderr);
    assertRefusal(r.stderr, home.delegationMap);
    assert.ok(readFileSync(home.delegationMap).equals(mapBytes));

    r = await runBin(FUNC_WEB_BIN, ["token", "create", "alice", "--role", "viewer"], env);
    assert.equal(r.code, 0, r.stderr);
    const webFormat = join(home.stateDir, "web", "format.json");
    assert.deepEqual(JSON.parse(readFileSync(webFormat, "utf8")), { format: STORE_FORMATS.web.version });
    writeFileSync(webFormat, JSON.stringify({ format: FUTURE }));
    const tokens = readFileSync(join(home.stateDir, "web", "tokens.json"));
    for (const args of [["token", "list"], ["token", "revoke", "alice"]]) {
      r = await runBin(FUNC_WEB_BIN, args, env);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assertRefusal(r.stderr, webFormat);
    }
    assert.ok(readFileSync(join(home.stateDir, "web", "tokens.json")).equals(tokens));
  });
});
