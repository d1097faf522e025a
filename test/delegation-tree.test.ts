// Delegation through a real 3-tier tree on loopback (func-fleet up --sub-overlords 2 --depth 2): overlord ->
// sub1 (-> sub1a) and sub2 -> leaves, each a real funcd with its own cert. Calls, outcome mixes, rights,
// a stale map, a killed leaf and killed sub-overlords (sync and async): every leaf in exactly one outcome,
// with the path it came by. One tree serves the whole file; tests that break it mend it before they end.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { homePaths, minionAddressFile, signedCertFile, type HostResult } from "@func/shared";
import { issueIdentity } from "@func/overlord";
import { FUNCD_BIN, func, startFleet, tempHome, type TestFleet } from "./helpers/fleet.js";
import { eventually, startBin, type Proc } from "./helpers/procs.js";

type Hosts = Record<string, HostResult & { via?: string[] }>;

describe("delegation: a 3-tier tree", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  const restarted: Proc[] = [];
  const home = (name: string) => fleet.minions.find((m) => m.name === name)!.home;
  const pidOf = (name: string) => fleet.minions.find((m) => m.name === name)!.pid;
  const homesOf = (pid: number) => fleet.minions.filter((m) => m.pid === pid).map((m) => m.home);
  const json = async (args: string[], from = fleet.home) => {
    const r = await func(from, [...args, "--json"]);
    return { code: r.code, stderr: r.stderr, doc: JSON.parse(r.stdout) as { hosts: Hosts; summary: Record<string, number> } };
  };

  /** Kills every funcd process serving `name` (SIGKILL: no goodbye) and returns how to start it again. */
  function kill(name: string): () => Promise<void> {
    const pid = pidOf(name);
    const homes = homesOf(pid);
    process.kill(pid, "SIGKILL");
    return async () => {
      const p = startBin(FUNCD_BIN, ["--multi", ...homes]);
      restarted.push(p);
      for (const m of fleet.minions) if (m.pid === pid) m.pid = p.child.pid!;
      await p.waitFor(new RegExp(`${name} listening`), 30_000);
    };
  }

  before(async () => {
    fleet = await startFleet("deleg-tree", 162, 8, { subOverlords: 2, depth: 2 });
  });

  let opsHome: string | undefined;
  after(async () => {
    for (const p of restarted) await p.stop();
    await fleet?.stop();
    if (opsHome) rmSync(opsHome, { recursive: true, force: true });
  });

  it("func-fleet says who is under whom, and func map show prints the tree with counts", async () => {
    const under = Object.fromEntries(fleet.minions.map((m) => [m.name, m.under ?? null]));
    assert.deepEqual(under, {
      sub1: null,
      sub2: null,
      sub1a: "sub1",
      leaf001: "sub1",
      leaf002: "sub1",
      leaf003: "sub1a",
      leaf004: "sub1a",
      leaf005: "sub2",
      leaf006: "sub2",
      leaf007: "sub2",
      leaf008: "sub2",
    });
    const r = await func(fleet.home, ["map", "show"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 sub-overlord\(s\), 9 hosts behind them/);
    assert.match(r.stdout, /\n {2}sub1 {2}\(5 hosts: 3 it calls itself, 1 sub-overlord\(s\)\)\n {4}leaf\[001-002\],sub1a \(3\)\n {4}sub1a {2}\(2 hosts/);
    assert.match(r.stdout, /\n {2}sub2 {2}\(4 hosts: 4 it calls itself, 0 sub-overlord\(s\)\)\n {4}leaf\[005-008\] \(4\)/);
  });

  it("calls every leaf through its sub-overlords, each result with its path; --no-delegate calls them directly", async () => {
    const { code, doc } = await json(["leaf*", "ping"]);
    assert.equal(code, 0);
    const via = Object.fromEntries(Object.entries(doc.hosts).map(([h, r]) => [h, `${r.outcome} ${(r.via ?? []).join(">")}`]));
    assert.deepEqual(via, {
      leaf001: "ok sub1",
      leaf002: "ok sub1",
      leaf003: "ok sub1>sub1a",
      leaf004: "ok sub1>sub1a",
      leaf005: "ok sub2",
      leaf006: "ok sub2",
      leaf007: "ok sub2",
      leaf008: "ok sub2",
    });
    const direct = await json(["leaf*", "--no-delegate", "ping"]);
    assert.equal(direct.code, 0);
    assert.equal(Object.keys(direct.doc.hosts).length, 8);
    assert.ok(Object.values(direct.doc.hosts).every((r) => r.outcome === "ok" && r.via === undefined));
    // the leaf's audit line names the original caller and the path; the peer is the sub-sub-overlord
    const audit = readFileSync(homePaths(home("leaf003")).auditLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
    const relayed = audit.filter((l) => l.method === "test.ping" && l.via === "sub1>sub1a");
    assert.ok(relayed.length > 0, "a relayed audit line");
    assert.equal(relayed[0]!.cn, "sub1a-overlord");
    assert.match(relayed[0]!.caller!, /^overlord@/);
  });

  it("plain-text output shows the path each result came by, as --json's via does (table, txt, fold)", async () => {
    const table = await func(fleet.home, ["leaf*;sub2", "ping"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^leaf001 via sub1 +ok +\S/m);
    assert.match(table.stdout, /^leaf003 via sub1>sub1a +ok +\S/m);
    assert.match(table.stdout, /^leaf008 via sub2 +ok +\S/m);
    // a host called directly has no path, and the columns line up across both
    const sub2 = /^sub2( +)ok/m.exec(table.stdout);
    const leaf3 = /^leaf003 via sub1>sub1a( +)ok/m.exec(table.stdout);
    assert.ok(sub2 && leaf3 && sub2[0].length === leaf3[0].length, table.stdout);
    const txt = await func(fleet.home, ["leaf00[3-5]", "--out", "txt", "ping"]);
    assert.equal(txt.code, 0, txt.stderr);
    assert.match(txt.stdout, /^leaf003 via sub1>sub1a: \S/m);
    assert.match(txt.stdout, /^leaf005 via sub2: \S/m);
    const fold = await func(fleet.home, ["leaf*;sub2", "--fold", "ping"]);
    assert.equal(fold.code, 0, fold.stderr);
    assert.match(fold.stdout, /\(9\) via direct, sub1, sub1>sub1a, sub2 +ok/);
    const direct = await func(fleet.home, ["leaf*", "--no-delegate", "ping"]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^leaf003 +ok/m);
    assert.doesNotMatch(direct.stdout, /via/);
  });

  it("carries every outcome mix through tiers", async () => {
    const boom = await json(["leaf00[1-5];sub2", "call", "test", "explode", "boom"]);
    assert.equal(boom.code, 2);
    for (const h of ["leaf001", "leaf003", "leaf005", "sub2"]) {
      const r = boom.doc.hosts[h]!;
      assert.equal(r.outcome, "error", h);
      assert.match((r as { error: { message: string } }).error.message, /boom/);
    }
    assert.deepEqual(boom.doc.hosts.leaf003!.via, ["sub1", "sub1a"]);
    assert.equal(boom.doc.hosts.sub2!.via, undefined);
    const slow = await json(["leaf00[2-3]", "--timeout", "1", "call", "test", "sleep", "4"]);
    assert.equal(slow.code, 8);
    assert.deepEqual(Object.values(slow.doc.hosts).map((r) => r.outcome), ["timeout", "timeout"]);
    assert.deepEqual(slow.doc.hosts.leaf003!.via, ["sub1", "sub1a"]);
  });

  it("never widens rights: a user allowed test.* only is denied command.run through a sub-overlord", async () => {
    const top = homePaths(fleet.home);
    opsHome = tempHome("deleg-ops1");
    const ops = homePaths(opsHome);
    const pair = await issueIdentity(top, "ops1", { role: "user" });
    mkdirSync(ops.signedDir, { recursive: true });
    writeFileSync(ops.overlordKey, pair.keyPem, { mode: 0o600 });
    writeFileSync(ops.overlordCert, pair.certPem);
    copyFileSync(top.caCert, ops.caCert);
    copyFileSync(top.crl, ops.crl);
    for (const f of [signedCertFile, minionAddressFile]) copyFileSync(f(top, "sub1"), f(ops, "sub1"));
    copyFileSync(top.delegationMap, ops.delegationMap);
    copyFileSync(top.overlordConf, ops.overlordConf);
    const acl = homePaths(home("sub1")).aclDir;
    mkdirSync(acl, { recursive: true });
    writeFileSync(join(acl, "ops1.acl"), "ops1 = test.*\n");
    const denied = await json(["leaf00[13]", "call", "command", "run", "id"], ops.configDir);
    assert.equal(denied.code, 2);
    for (const r of Object.values(denied.doc.hosts)) {
      assert.equal(r.outcome, "denied");
      assert.match((r as { error: { message: string } }).error.message, /via sub1: .*ops1 may not call command\.run/);
    }
    const allowed = await json(["leaf00[13]", "ping"], ops.configDir);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(allowed.doc.hosts.leaf003!.via, ["sub1", "sub1a"]);
    const audit = readFileSync(homePaths(home("leaf001")).auditLog, "utf8");
    assert.match(audit, /"cn":"sub1-overlord"[^\n]*"method":"test.ping"[^\n]*"caller":"ops1","via":"sub1"/);
    assert.doesNotMatch(audit, /command\.run/);
  });

  it("a stale map: a leaf moved to another sub-overlord is not served, then found by func map build", async () => {
    const [s1, s2] = [homePaths(home("sub1")), homePaths(home("sub2"))];
    for (const f of [signedCertFile, minionAddressFile]) renameSync(f(s1, "leaf002"), f(s2, "leaf002"));
    const stale = await json(["leaf002", "ping"]);
    assert.equal(stale.code, 4);
    const r = stale.doc.hosts.leaf002 as { outcome: string; error: { type: string; message: string }; via: string[] };
    assert.equal(r.outcome, "unreachable");
    assert.equal(r.error.type, "NotServed");
    assert.match(r.error.message, /sub1 does not serve leaf002 .*func map build/);
    assert.deepEqual(r.via, ["sub1"]);
    const build = await func(fleet.home, ["map", "build"]);
    assert.equal(build.code, 0, build.stderr);
    const moved = await json(["leaf002", "ping"]);
    assert.equal(moved.code, 0);
    assert.deepEqual(moved.doc.hosts.leaf002!.via, ["sub2"]);
  });

  it("a killed leaf is unreachable through its sub-overlord, the others answer", async () => {
    const restart = kill("leaf005");
    try {
      const { code, doc } = await json(["leaf00[5-8];leaf001", "ping"]);
      assert.equal(code, 4);
      assert.equal(doc.hosts.leaf001!.outcome, "ok");
      for (const h of ["leaf005", "leaf006", "leaf007", "leaf008"]) {
        assert.equal(doc.hosts[h]!.outcome, "unreachable", h);
        assert.deepEqual(doc.hosts[h]!.via, ["sub2"]);
      }
    } finally {
      await restart();
    }
  });

  it("a sub-overlord killed mid-call: its unreported leaves are lost; unreachable ones name the path", async () => {
    const auditFile = homePaths(home("sub2")).auditLog;
    const before = readFileSync(auditFile, "utf8").length;
    const call = func(fleet.home, ["leaf00[5-8];leaf001", "--timeout", "3", "call", "test", "sleep", "2", "--json"]);
    assert.ok(await eventually(() => readFileSync(auditFile, "utf8").slice(before).includes('"delegation.run"'), 30_000), "the share reached sub2");
    const restart = kill("sub2");
    try {
      const r = await call;
      const doc = JSON.parse(r.stdout) as { hosts: Hosts };
      assert.equal(doc.hosts.leaf001!.outcome, "ok");
      for (const h of ["leaf005", "leaf006", "leaf007", "leaf008"]) {
        const res = doc.hosts[h] as { outcome: string; error: { message: string }; via: string[] };
        assert.equal(res.outcome, "lost", h);
        assert.match(res.error.message, /^via sub2: /);
        assert.deepEqual(res.via, ["sub2"]);
      }
      const down = await json(["leaf00[5-6]", "ping"]);
      assert.equal(down.code, 4);
      for (const res of Object.values(down.doc.hosts)) {
        assert.equal(res.outcome, "unreachable");
        assert.match((res as { error: { message: string } }).error.message, /^via sub2: could not reach sub-overlord sub2/);
      }
    } finally {
      await restart();
    }
  });

  it("async through tiers survives a sub-overlord and a leaf funcd killed and restarted: nothing lost, nothing run twice", async () => {
    const started = await func(fleet.home, ["leaf00[3-8]", "call", "--async", "--nopoll", "test", "sleep", "4"]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    // once every tier has dispatched (each leaf holds its minion job), take sub2 and the funcd of leaf003-004 down
    const leafJobs = async (leaf: string) => {
      const list = await json([leaf, "--no-delegate", "call", "jobs", "list"]);
      const r = list.doc.hosts[leaf] as { outcome: string; value?: { overlord_job?: string }[] };
      return r.outcome === "ok" ? r.value!.filter((j) => j.overlord_job === id).length : -1;
    };
    assert.ok(
      await eventually(async () => (await Promise.all(["leaf003", "leaf004", "leaf005", "leaf008"].map(leafJobs))).every((n) => n === 1), 60_000, 300),
      "every leaf got its minion job through the tiers",
    );
    const restartSub = kill("sub2");
    const restartLeaves = kill("leaf003");
    const status = JSON.parse((await func(fleet.home, ["job", "status", id, "--json"])).stdout) as { hosts: Record<string, { final: boolean }> };
    for (const h of ["leaf005", "leaf006", "leaf007", "leaf008"]) assert.equal(status.hosts[h]!.final, false, `${h} stays open while sub2 is down`);
    await sleep(500);
    await restartSub();
    await restartLeaves();
    const wait = await func(fleet.home, ["job", "wait", id, "--timeout", "60", "--json"]);
    assert.equal(wait.code, 0, wait.stdout + wait.stderr);
    const done = JSON.parse(wait.stdout) as { hosts: Hosts };
    assert.deepEqual(Object.values(done.hosts).map((r) => r.outcome), Array(6).fill("ok"));
    assert.deepEqual(done.hosts.leaf003!.via, ["sub1", "sub1a"]);
    assert.deepEqual(done.hosts.leaf007!.via, ["sub2"]);
    // each leaf holds exactly one minion job for this overlord job
    for (const leaf of ["leaf003", "leaf004", "leaf005", "leaf008"]) assert.equal(await leafJobs(leaf), 1, leaf);
  });
});
