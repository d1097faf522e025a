// End to end through the real CLI and the Overlord API against a real 5-minion fleet over mutual TLS.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "@func/shared";
import { Overlord } from "@func/overlord";
import { exited } from "./helpers/procs.js";
import { func, smallBuckets, startFleet, type TestFleet } from "./helpers/fleet.js";

describe("func CLI and API against a 5-minion fleet", function () {
  this.timeout(120_000);
  let fleet: TestFleet;

  before(async () => {
    fleet = await startFleet("e2e", 11, 5);
    smallBuckets(fleet.home);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("ping --json shows every host ok", async () => {
    const r = await func(fleet.home, ["*", "call", "test", "ping", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.job, null);
    assert.deepEqual(Object.keys(doc.hosts), fleet.minions.map((m) => m.name).sort());
    for (const res of Object.values<{ outcome: string; value: unknown }>(doc.hosts)) assert.deepEqual([res.outcome, res.value], ["ok", 1]);
    assert.equal(doc.summary.ok, 5);
  });

  it("types arguments: test add 1 2 gives 3, --str gives '12'", async () => {
    const r = await func(fleet.home, ["*", "call", "test", "add", "1", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    for (const res of Object.values<{ value: unknown }>(JSON.parse(r.stdout).hosts)) assert.equal(res.value, 3);
    const s = await func(fleet.home, ["*", "call", "--str", "test", "add", "1", "2", "--json"]);
    for (const res of Object.values<{ value: unknown }>(JSON.parse(s.stdout).hosts)) assert.equal(res.value, "12");
  });

  it("Salt's spelling: call test.ping and call command.run ARGS are call test ping and call command run ARGS", async () => {
    const r = await func(fleet.home, ["*", "call", "test.ping", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    for (const res of Object.values<{ value: unknown }>(JSON.parse(r.stdout).hosts)) assert.equal(res.value, 1);
    const c = await func(fleet.home, ["minion01", "call", "command.run", "echo", "hi", "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).hosts.minion01.value.stdout, "hi\n");
    const bad = await func(fleet.home, ["*", "call", "test.ping.x"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /call needs <module> <method>/);
  });

  it("runs a shell command on each host and prints one line per host, sorted", async () => {
    const kernel = spawnSync("uname", ["-r"]).stdout.toString().trim();
    const r = await func(fleet.home, ["*", "call", "command", "run", "uname -r"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 5);
    const names = fleet.minions.map((m) => m.name).sort();
    lines.forEach((line, i) => assert.match(line, new RegExp(`^${names[i]}\\s+ok\\s+${kernel.replace(/\./g, "\\.")}$`)));
    assert.match(r.stderr, /5 hosts: 5 ok/);
  });

  it("passes option-looking arguments through to the command: call command run ls -la runs \"ls -la\"", async () => {
    const r = await func(fleet.home, ["minion01", "call", "command", "run", "ls", "-la", "/", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout).hosts.minion01;
    assert.equal(res.value.rc, 0);
    assert.match(res.value.stdout, /^total \d+/);
    assert.match(res.value.stdout, /\.\.\n/);
  });

  it("a word in a string parameter stays a string: call command run false runs false", async () => {
    const r = await func(fleet.home, ["minion01", "call", "command", "run", "false", "--json"]);
    // the command ran (outcome ok) and exited 1: exit bit 32 says so
    assert.equal(r.code, EXIT.COMMAND_FAILED, r.stderr);
    assert.equal(JSON.parse(r.stdout).hosts.minion01.outcome, "ok");
    assert.equal(JSON.parse(r.stdout).hosts.minion01.value.rc, 1);
    for (const word of ["true", "null", "007"]) {
      const t = await func(fleet.home, ["minion01", "call", "command", "run", "echo", word, "--json"]);
      assert.equal(t.code, 0, t.stderr);
      assert.equal(JSON.parse(t.stdout).hosts.minion01.value.stdout, `${word}\n`, `${word} stays the word typed`);
    }
  });

  it("--fold prints identical results once under a folded node set", async () => {
    const r = await func(fleet.home, ["*", "--fold", "call", "test", "add", "1", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^minion\[01-05\] \(5\)\s+ok\s+3$/);
  });

  it("copyfile pushes a file to every host; getfile pulls one into DIR/<host>/", async () => {
    const local = join(fleet.home, "motd.src");
    writeFileSync(local, "hello \x1b[1mfleet\x1b[0m\n".repeat(50_000));
    const remote = join(fleet.home, "motd.copied");
    const r = await func(fleet.home, ["*", "copyfile", local, remote, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.summary.ok, 5);
    assert.equal(readFileSync(remote, "utf8"), readFileSync(local, "utf8"));
    const dir = join(fleet.home, "pulled");
    const g = await func(fleet.home, ["minion0[1-2]", "getfile", remote, dir]);
    assert.equal(g.code, 0, g.stderr);
    for (const h of ["minion01", "minion02"]) assert.equal(readFileSync(join(dir, h, "motd.copied"), "utf8"), readFileSync(local, "utf8"));
    const missing = await func(fleet.home, ["minion01", "getfile", join(fleet.home, "nope"), dir, "--json"]);
    assert.equal(JSON.parse(missing.stdout).hosts.minion01.outcome, "error");
  });

  it("test explode: error on every host, exit bit 2", async () => {
    const r = await func(fleet.home, ["*", "call", "test", "explode", "--json"]);
    assert.equal(r.code & EXIT.ERROR, EXIT.ERROR);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.summary.error, 5);
    for (const res of Object.values<{ outcome: string; error: { code: number; message: string } }>(doc.hosts)) {
      assert.equal(res.outcome, "error");
      assert.equal(res.error.code, 1);
      assert.match(res.error.message, /test\.explode/);
    }
  });

  it("unknown method is fault 2; a wrong argument count is one usage error before fan-out; the minions keep serving", async () => {
    const r = await func(fleet.home, ["minion01", "call", "nosuch", "method", "--json"]);
    assert.equal(JSON.parse(r.stdout).hosts.minion01.error.code, 2);
    const r2 = await func(fleet.home, ["*", "call", "test", "add", "1", "--json"]);
    assert.equal(r2.code, EXIT.USAGE, r2.stderr);
    assert.equal(r2.stdout, "");
    assert.equal(r2.stderr.trim().split("\n").length, 1, r2.stderr);
    assert.match(r2.stderr, /test\.add takes 2 argument\(s\), got 1: b is missing \(usage: func "\*" call test add 1 2\)/);
    const r3 = await func(fleet.home, ["minion01", "ping"]);
    assert.equal(r3.code, 0);
  });

  it("no match exits 16 and names the spec", async () => {
    const r = await func(fleet.home, ["web*", "ping"]);
    assert.equal(r.code, EXIT.NO_MATCH);
    assert.match(r.stderr, /web\*/);
  });

  it("globs, --exclude, groups and list_minions", async () => {
    writeFileSync(join(fleet.home, "groups"), "[db]\nhosts = minion04, minion05\n");
    const r = await func(fleet.home, ["minion0[1-3];@db", "--exclude", "minion02", "list_minions"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["minion01", "minion03", "minion04", "minion05"]);
    const g = await func(fleet.home, ["@db:*5", "list_minions"]);
    assert.equal(g.stdout.trim(), "minion05");
  });

  it("--forks 1 and --forks 3 give identical results", async () => {
    const a = await func(fleet.home, ["*", "call", "test", "add", "[1]", "[2,3]", "--json", "--forks", "1"]);
    const b = await func(fleet.home, ["*", "call", "test", "add", "[1]", "[2,3]", "--json", "--forks", "3"]);
    const strip = (s: string) => JSON.stringify(JSON.parse(s).hosts, (k, v) => (k === "ms" ? undefined : v));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(strip(a.stdout), strip(b.stdout));
    assert.match(strip(a.stdout), /\[1,2,3\]/);
  });

  it("a minion that does not answer in time is `timeout`, within the timeout plus a margin", async () => {
    const started = Date.now();
    const r = await func(fleet.home, ["minion02", "call", "test", "sleep", "10", "--timeout", "1", "--json"]);
    const elapsed = Date.now() - started;
    assert.equal(JSON.parse(r.stdout).hosts.minion02.outcome, "timeout");
    assert.equal(r.code & EXIT.TIMEOUT, EXIT.TIMEOUT);
    // process start and CLI load included: generous margin, the point is "not 10 s"
    assert.ok(elapsed < 6000, `took ${elapsed} ms`);
  });

  it("the API: call() gives one result per host, stream() yields each host once", async () => {
    const o = new Overlord("*", { home: fleet.home });
    try {
      const res = await o.call("test", "add", [2, 40]);
      assert.deepEqual(Object.keys(res), fleet.minions.map((m) => m.name).sort());
      for (const r of Object.values(res)) assert.deepEqual(r.outcome === "ok" && r.value, 42);
      const seen: string[] = [];
      for await (const ev of o.stream("test", "echo", [{ a: [1, 2.5, true, null], s: "\x1b[31mred\x1b[0m" }])) {
        seen.push(ev.host);
        assert.equal(ev.result.outcome, "ok");
        assert.deepEqual(ev.result.outcome === "ok" && ev.result.value, { a: [1, 2.5, true, null], s: "\x1b[31mred\x1b[0m" });
      }
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
    } finally {
      await o.close();
    }
  });

  it("a Python xmlrpc.client with the overlord's cert can call test.ping", function () {
    const py = spawnSync("python3", ["--version"]);
    if (py.status !== 0) this.skip();
    const m = fleet.minions[0]!;
    const script = `
import ssl, xmlrpc.client, sys
home = sys.argv[1]
ctx = ssl.create_default_context(cafile=home + "/pki/ca/ca.crt")
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
ctx.load_cert_chain(home + "/pki/overlord.crt", home + "/pki/overlord.key")
ctx.check_hostname = False
p = xmlrpc.client.ServerProxy("https://${m.address}:${m.port}/", context=ctx, allow_none=True)
print(p.test.ping(), p.test.add(1, 2), p.test.bigint())
`;
    const r = spawnSync("python3", ["-c", script, fleet.home], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "1 3 4294967296");
  });

  it("a stopped minion is `unreachable` and the others still answer", async () => {
    const victim = fleet.minions.find((m) => m.name === "minion05")!;
    process.kill(victim.pid, "SIGKILL");
    await exited(victim.pid);
    const r = await func(fleet.home, ["*", "ping", "--json"]);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.hosts.minion05.outcome, "unreachable");
    assert.equal(doc.summary.ok, 4);
    assert.equal(r.code, EXIT.UNREACHABLE);
  });
});
