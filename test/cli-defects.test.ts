// The first hour of a new user, through the real `func` binary against a real fleet: node sets in specs,
// repeated and value-less options, a command's non-zero rc (exit bit 32), a mistyped FUNC_HOME, stray words.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "@func/shared";
import { ACTION_TABLE, COMMAND_TABLE, EXAMPLES, OPTIONS } from "@func/overlord/cli";
import { FUNC_BIN, func, runBin, startFleet, type TestFleet } from "./helpers/fleet.js";

const noTrace = (s: string) => assert.doesNotMatch(s, /\n\s+at |SyntaxError|TypeError/, s);

describe("func CLI defects a new user hits", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet("cli-defects", 140, 4);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("node sets as --fold prints them select hosts; a reversed range is one line, exit 1", async () => {
    const r = await func(fleet.home, ["minion[01-03]", "ping"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]), ["minion01", "minion02", "minion03"]);
    const list = await func(fleet.home, ["minion0[1-2],minion04", "list_minions"]);
    assert.deepEqual(list.stdout.trim().split("\n"), ["minion01", "minion02", "minion04"]);
    const bad = await func(fleet.home, ["minion0[3-1]", "ping"]);
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /^func: the range 3-1 in "minion0\[3-1\]" is reversed: write 1-3\n$/);
    noTrace(bad.stderr);
  });

  it("-e a -e b leaves out both", async () => {
    const r = await func(fleet.home, ["-e", "minion01", "-e", "minion03", "*", "list_minions"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["minion02", "minion04"]);
  });

  it("a value-less or repeated option and a stray word after job purge are usage errors", async () => {
    for (const [args, re] of [
      [["*", "ping", "-t"], /--timeout needs a number/],
      [["-t", "*", "ping"], /--timeout needs a number/],
      [["*", "ping", "-e"], /--exclude needs a value/],
      [["*", "ping", "-t", "5", "-t", "6"], /--timeout given more than once/],
      [["job", "purge", "nonsense"], /job purge takes no job id, got "nonsense"/],
      [["job", "list", "x"], /job list takes no job id/],
      [["job", "status", "a", "b"], /at most one job id/],
    ] as [string[], RegExp][]) {
      const r = await func(fleet.home, args);
      assert.equal(r.code, EXIT.USAGE, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
      assert.equal(r.stderr.split("\n").length, 2, "one line");
      noTrace(r.stderr);
    }
  });

  it("a command that exits non-zero shows its rc like a failure and sets exit bit 32; --json keeps outcome ok", async () => {
    const r = await func(fleet.home, ["minion0[1-2]", "call", "command", "run", "echo out; exit 3"]);
    assert.equal(r.code, EXIT.COMMAND_FAILED, r.stderr);
    assert.match(r.stdout, /^minion01 +rc=3 +out$/m);
    assert.doesNotMatch(r.stdout, / ok /);
    assert.match(r.stderr, /2 ok \(2 exited non-zero\)/);
    const j = await func(fleet.home, ["minion01", "call", "command", "run", "exit 3", "--json"]);
    assert.equal(j.code, EXIT.COMMAND_FAILED);
    const doc = JSON.parse(j.stdout) as { hosts: Record<string, { outcome: string; value: { rc: number } }> };
    assert.equal(doc.hosts.minion01!.outcome, "ok");
    assert.equal(doc.hosts.minion01!.value.rc, 3);
    const ok = await func(fleet.home, ["minion01", "call", "command", "run", "echo fine"]);
    assert.equal(ok.code, 0, "rc 0 sets no bit");
    const mixed = await func(fleet.home, ["minion0[1-2]", "--exclude", "minion02", "call", "command", "run", "exit 1", "-t", "30"]);
    assert.equal(mixed.code, EXIT.COMMAND_FAILED);
  });

  it("a mistyped FUNC_HOME is named, and nothing is created in it; job list on a home with no jobs creates no jobs/", async () => {
    const missing = join(fleet.home, "no-such-home");
    for (const args of [["*", "ping"], ["job", "list"], ["*", "list_minions"]]) {
      const r = await runBin(FUNC_BIN, args, { FUNC_HOME: missing });
      assert.equal(r.code, EXIT.USAGE, r.stderr);
      assert.match(r.stderr, new RegExp(`FUNC_HOME=${missing}: no such directory`));
    }
    assert.ok(!existsSync(missing));
    const empty = mkdtempSync(join(tmpdir(), "func-cli-empty-"));
    try {
      const r = await runBin(FUNC_BIN, ["job", "list"], { FUNC_HOME: empty });
      assert.match(r.stderr, /is not a func home/);
      assert.deepEqual(readdirSync(empty), []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    // a home that never ran anything: job queries answer, and create no job store
    const fresh = mkdtempSync(join(tmpdir(), "func-cli-fresh-"));
    try {
      mkdirSync(join(fresh, "pki"));
      const list = await runBin(FUNC_BIN, ["job", "list"], { FUNC_HOME: fresh });
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, "");
      const status = await runBin(FUNC_BIN, ["job", "status", "20261122T201233-5f2a9c01b7"], { FUNC_HOME: fresh });
      assert.equal(status.code, EXIT.USAGE);
      assert.match(status.stderr, /no job 20261122T201233-5f2a9c01b7 here/);
      assert.deepEqual(readdirSync(fresh), ["pki"], "queries created no job store");
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("func --help counts its fold example right", async () => {
    const r = await runBin(FUNC_BIN, ["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /web\[01-07,09\] \(8\)/);
  });

  it("help comes from the one command table: every command, action and option, with every example", async () => {
    const top = await runBin(FUNC_BIN, ["--help"]);
    for (const [cmd] of EXAMPLES) assert.ok(top.stdout.includes(cmd.replace(/\$0/g, "func").slice(0, 24)), cmd);
    for (const name of Object.keys(ACTION_TABLE)) assert.ok(top.stdout.includes(name), name);
    for (const [name, o] of Object.entries(OPTIONS)) assert.ok(top.stdout.includes(`--${name}`) && top.stdout.includes(o.describe.slice(0, 30)), name);
    for (const [name, c] of Object.entries(COMMAND_TABLE)) {
      assert.ok(top.stdout.includes(`func ${c.usage}`), `func --help lists ${c.usage}`);
      const help = await runBin(FUNC_BIN, [name, "--help"]);
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.ok(c.examples.length > 0, `${name} has examples`);
      for (const [cmd] of c.examples) assert.ok(help.stdout.includes(cmd.replace(/\$0/g, "func").slice(0, 24)), `${name} --help shows ${cmd}`);
      for (const w of c.words) assert.ok(help.stdout.includes(w), `${name} --help names ${w}`);
    }
    const completion = await runBin(FUNC_BIN, ["completion", "bash"]);
    for (const [name, c] of Object.entries(COMMAND_TABLE)) {
      assert.ok(completion.stdout.includes(name), `completion offers ${name}`);
      if (c.words.length > 0) assert.ok(completion.stdout.includes(c.words.join(" ")), `completion offers ${name}'s ${c.words.join(" ")}`);
    }
  });
});
