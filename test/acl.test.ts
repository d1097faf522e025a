// Minion ACLs end to end against a real 2-minion fleet on 127.33.0.x (enrolled through the enrollment service):
// the matrix of allowed/denied calls (glob on CN, glob on method, `async.` stripped, default deny, the overlord
// role allowed `*`), reload when acl.d changes, the audit log, and a second overlord identity with a limited ACL
// driving the real `func` CLI.

import assert from "node:assert/strict";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, homePaths, readCsr, type CertPair, type HostResult } from "@func/shared";
import { MinionTransport, issueIdentity, minionAddress } from "@func/overlord";
import { Acl } from "@func/minion";
import type { TlsMaterial } from "@func/shared";
import { FUNC_CA_BIN, func, runBin, startFleet, tempHome, type TestFleet } from "./helpers/fleet.js";
import { eventually } from "./helpers/procs.js";

interface Caller {
  key: string;
  cert: string;
}

describe("ACLs on a real fleet", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let caPem: string;
  let outDir: string;
  const callers: Record<string, Caller> = {};

  const aclDir = (minion: string) => homePaths(join(fleet.home, "minions", minion)).aclDir;
  const identity = (c: Caller): TlsMaterial => ({ key: c.key, cert: c.cert, ca: caPem });
  const fromPair = (p: CertPair): Caller => ({ key: p.keyPem, cert: p.certPem });

  async function call(caller: string, method: string, params: unknown[] = [], minion = "minion01"): Promise<HostResult> {
    const t = new MinionTransport(identity(callers[caller]!));
    try {
      return await t.call(minionAddress(homePaths(fleet.home), minion, 51234), method, params, { timeoutMs: 10_000 });
    } finally {
      t.close();
    }
  }

  before(async () => {
    fleet = await startFleet("acl", 33, 2);
    const paths = homePaths(fleet.home);
    caPem = readFileSync(paths.caCert, "utf8");
    outDir = tempHome("acl-ids");
    // ops1 through the real CLI; the others through the API
    const issued = await runBin(FUNC_CA_BIN, ["issue", "ops1", "--out", outDir], { FUNC_HOME: fleet.home });
    assert.equal(issued.code, 0, issued.stderr);
    callers.ops1 = { key: readFileSync(join(outDir, "ops1.key"), "utf8"), cert: readFileSync(join(outDir, "ops1.crt"), "utf8") };
    callers.ops2 = fromPair(await issueIdentity(paths, "ops2", { role: "user" }));
    callers["ci-runner7"] = fromPair(await issueIdentity(paths, "ci-runner7", { role: "user" }));
    callers.intruder = fromPair(await issueIdentity(paths, "intruder", { role: "user" }));
    // a user whose CN looks like an overlord's: the role grants `*`, never the name
    callers["overlord@fake"] = fromPair(await issueIdentity(paths, "overlord@fake", { role: "user" }));
    callers.overlord = { key: readFileSync(paths.overlordKey, "utf8"), cert: readFileSync(paths.overlordCert, "utf8") };
    const m2 = homePaths(join(fleet.home, "minions", "minion02"));
    callers.minion02 = { key: readFileSync(m2.minionKey, "utf8"), cert: readFileSync(m2.minionCert, "utf8") };
    for (const m of ["minion01", "minion02"]) {
      mkdirSync(aclDir(m), { recursive: true });
      writeFileSync(
        join(aclDir(m), "ops.acl"),
        ["# who may call what on this minion", "ops1 = test.*, system.list_modules", "ops2 = async.test.*", "ci-* = test.ping", "", "*.never.example = *"].join("\n") + "\n",
      );
    }
    // a minion looks at acl.d at most once a second: let that second pass since the minions started
    await new Promise((r) => setTimeout(r, 1200));
  });
  after(async () => {
    await fleet?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it("the fleet enrolled the real way: each minion made its own key (0600) and CSR; the CA holds no minion key", () => {
    const paths = homePaths(fleet.home);
    for (const m of fleet.minions) {
      const mp = homePaths(m.home);
      assert.equal(statSync(mp.minionKey).mode & 0o777, 0o600);
      assert.equal(readCsr(readFileSync(mp.minionCsr, "utf8")).commonName, m.name);
      assert.match(readFileSync(join(fleet.home, "log", `funcd-${m.name}.log`), "utf8"), new RegExp(`${m.name}: enrolled`));
      const rec = JSON.parse(readFileSync(join(paths.signedDir, `${m.name}.json`), "utf8"));
      assert.deepEqual([rec.address, rec.port], [m.address, m.port]);
    }
    const caKeys = (readdirSync(paths.caDir, { recursive: true }) as string[]).filter((f) => f.endsWith(".key")).sort();
    assert.deepEqual(caKeys, ["ca.key", "service.key"]);
  });

  const matrix: [caller: string, method: string, params: unknown[], expected: "ok" | "denied" | "not denied"][] = [
    ["overlord", "command.run", ["uname"], "ok"],
    ["overlord", "system.list_methods", [], "ok"],
    ["ops1", "test.ping", [], "ok"],
    ["ops1", "test.add", [1, 2], "ok"],
    ["ops1", "system.list_modules", [], "ok"],
    ["ops1", "system.list_methods", [], "denied"],
    ["ops1", "command.run", ["id"], "denied"],
    // async rights are granted as such (issue 10 item 11): test.* is not async.test.*
    ["ops1", "async.test.ping", [], "denied"],
    ["ops2", "async.test.ping", [], "not denied"],
    ["ops2", "test.ping", [], "denied"],
    ["ops1", "async.command.run", ["id"], "denied"],
    ["ci-runner7", "test.ping", [], "ok"],
    ["ci-runner7", "test.add", [1, 2], "denied"],
    ["intruder", "test.ping", [], "denied"],
    ["overlord@fake", "test.ping", [], "denied"],
    ["overlord@fake", "command.run", ["id"], "denied"],
    ["minion02", "test.ping", [], "denied"],
  ];
  for (const [caller, method, params, expected] of matrix) {
    it(`${caller} calling ${method}: ${expected}`, async () => {
      const r = await call(caller, method, params);
      if (expected === "not denied") {
        assert.notEqual(r.outcome, "denied", JSON.stringify(r));
        assert.notEqual(r.outcome, "unreachable", JSON.stringify(r));
      } else assert.equal(r.outcome, expected, JSON.stringify(r));
      if (r.outcome === "denied") assert.equal(r.error.code, 3);
    });
  }

  it("a line grants user identities unless it names the role: minion:<glob>, service:<glob>", () => {
    const dir = tempHome("acl-roles");
    try {
      writeFileSync(join(dir, "a.acl"), ["* = test.ping", "minion:web* = test.add", "service:web-svc = system.*", "overlord:x = *", "web[z-a] = *"].join("\n") + "\n");
      const acl = new Acl(dir);
      assert.equal(acl.allows("anyone", "user", "test.ping"), true);
      assert.equal(acl.allows("web01", "minion", "test.ping"), false, "* is for users");
      assert.equal(acl.allows("web01", "minion", "test.add"), true);
      assert.equal(acl.allows("web01", "user", "test.add"), false, "minion: lines are for minion certs");
      assert.equal(acl.allows("web-svc", "service", "system.list_modules"), true);
      assert.equal(acl.allows("web-svc", null, "test.ping"), false, "a cert with no role gets nothing");
      assert.equal(acl.allowsAny("db1", "minion"), false);
      assert.equal(acl.errors.length, 2, acl.errors.join("; "));
      assert.match(acl.errors[0]!, /a\.acl:4: "overlord:" is not a role a line can grant/);
      assert.match(acl.errors[1]!, /a\.acl:5: .*reversed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reloads acl.d when a file appears or goes away", async () => {
    assert.equal((await call("minion02", "test.ping")).outcome, "denied");
    const file = join(aclDir("minion01"), "peers.acl");
    // a line without a role is for user identities: a minion named by it stays out
    writeFileSync(file, "minion0[0-9] = test.ping\n");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await call("minion02", "test.ping")).outcome, "denied", "a user line grants no minion cert");
    writeFileSync(file, "minion:minion0[0-9] = test.ping\n");
    assert.ok(await eventually(async () => (await call("minion02", "test.ping")).outcome === "ok", 10_000, 300), "allowed after the file appears");
    assert.equal((await call("minion02", "test.add", [1, 2])).outcome, "denied", "only what the line says");
    rmSync(file);
    assert.ok(await eventually(async () => (await call("minion02", "test.ping")).outcome === "denied", 10_000, 300), "denied again once it is gone");
  });

  it("writes every call to the audit log with CN, address, method, outcome and duration", async () => {
    await call("ops1", "command.run", ["id"]);
    await call("overlord", "test.ping");
    const log = join(homePaths(join(fleet.home, "minions", "minion01")).logDir, "audit.log");
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const denied = lines.filter((l) => l.cn === "ops1" && l.method === "command.run");
    assert.ok(denied.length >= 1);
    assert.equal(denied[0]!.outcome, "denied");
    assert.match(String(denied[0]!.addr), /^(::ffff:)?127\./);
    assert.equal(typeof denied[0]!.ms, "number");
    assert.ok(!Number.isNaN(Date.parse(String(denied[0]!.time))));
    assert.ok(lines.some((l) => String(l.cn).startsWith("overlord@") && l.method === "test.ping" && l.outcome === "ok"));
    assert.ok(lines.some((l) => l.cn === "ops1" && l.method === "async.command.run" && l.outcome === "denied"), "the async call is logged under its wire name");
  });

  it("a second overlord identity (func-ca issue, role user) drives the CLI within its ACL", async () => {
    // its own home: the CA cert, the CRL and the signed certs (the universe), and ops1 as its identity
    const home2 = tempHome("acl-ops1");
    try {
      const p1 = homePaths(fleet.home);
      const p2 = homePaths(home2);
      mkdirSync(p2.caDir, { recursive: true });
      cpSync(p1.caCert, p2.caCert);
      cpSync(p1.crl, p2.crl);
      cpSync(p1.signedDir, p2.signedDir, { recursive: true });
      cpSync(join(outDir, "ops1.key"), p2.overlordKey);
      cpSync(join(outDir, "ops1.crt"), p2.overlordCert);
      cpSync(p1.overlordConf, p2.overlordConf);

      const ping = await func(home2, ["*", "call", "test", "ping", "--json"]);
      assert.equal(ping.code, EXIT.OK, ping.stdout + ping.stderr);
      assert.equal(JSON.parse(ping.stdout).summary.ok, 2);
      const run = await func(home2, ["*", "call", "command", "run", "id", "--json"]);
      assert.equal(run.code, EXIT.ERROR, run.stdout + run.stderr);
      const doc = JSON.parse(run.stdout);
      assert.equal(doc.summary.denied, 2);
      assert.equal(doc.hosts.minion01.error.code, 3);
      // the fleet's own overlord is not limited
      const own = await func(fleet.home, ["*", "call", "command", "run", "uname", "--json"]);
      assert.equal(own.code, EXIT.OK, own.stdout + own.stderr);
    } finally {
      rmSync(home2, { recursive: true, force: true });
    }
  });
});
