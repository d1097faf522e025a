// The CLI's fast path: plain `func <target> call|ping|...` and `func job ...` lines are parsed by yargs-parser
// alone, and must come out exactly as the full yargs parses them; anything else (help, odd arguments) goes
// to yargs.

import assert from "node:assert/strict";
import { quickParse, yargsParse, type Invocation, type JobInvocation } from "@func/overlord/cli";

async function viaYargs(argv: string[]): Promise<Invocation | JobInvocation | null> {
  let inv: Invocation | JobInvocation | null = null;
  await yargsParse(
    argv,
    async (i) => {
      inv = i;
    },
    async (j) => {
      inv = j;
    },
  );
  return inv;
}

const SAME: string[][] = [
  ["*", "ping"],
  ["@web", "ping", "--forks", "2"],
  ["*", "call", "test", "add", "1", "2"],
  ["-f", "2", "*", "call", "test", "echo", "1.50", "--str"],
  ["*", "call", "test", "echo", "1e3", "007", "0x10"],
  ["*", "--json", "call", "test", "ping"],
  ["*", "call", "test", "ping", "--jsonl", "-t", "5"],
  ["*", "call", "command", "run", "--", "ls", "-la"],
  ["--no-color", "web*", "call", "x", "y", "[1,2]", '{"a":1}'],
  ["*", "list_minions", "-e", "m1"],
  ["*", "ping", "--forks=3", "--timeout=0.5", "--exclude=a;b"],
  ["123", "call", "test", "echo", "true", "null", '"12"'],
  ["*", "ping", "-f2", "--color", "-b"],
  ["*", "copyfile", "./a b", "/etc/motd"],
  ["*", "call", "test", "echo", "a", "--", "--c", "-5"],
  ["*", "call", "--async", "test", "sleep", "0"],
  ["*", "call", "-a", "-n", "test", "sleep", "0", "--json"],
  ["*", "call", "--jobstatus", "20261122T201233-5f2a9c01b7", "test", "ping"],
  ["*", "call", "command", "run", "echo job", "job"],
  ["job", "list"],
  ["job", "list", "--limit", "5", "--json"],
  ["job", "status", "20261122T201233-5f2a9c01b7"],
  ["--json", "job", "wait", "20261122T201233-5f2a9c01b7", "-t", "30"],
  ["job", "purge", "--older-than", "7d"],
];

describe("CLI fast path", () => {
  for (const argv of SAME) {
    it(`parses ${JSON.stringify(argv)} exactly as yargs does`, async () => {
      const quick = quickParse(argv);
      assert.ok(quick, "taken by the fast path");
      assert.deepEqual(quick, await viaYargs(argv));
    });
  }

  it("leaves help, missing or unknown actions and option-looking arguments to yargs", () => {
    const others = [["--help"], ["*", "ping", "-h"], ["*"], [], ["*", "reboot"], ["job", "bogus"], ["job", "list", "-h"], ["*", "call", "command", "run", "ls", "-la"]];
    for (const argv of others) {
      assert.equal(quickParse(argv), null, JSON.stringify(argv));
    }
  });

  it("a bad option value or a stray job word is the same usage error on both paths", async () => {
    for (const [argv, re] of [
      [["job", "list", "--limit=abc"], /--limit needs a number/],
      [["*", "ping", "-t"], /--timeout needs a number/],
      [["-e", "a", "*", "ping", "-t", "1", "-t", "2"], /--timeout given more than once/],
    ] as [string[], RegExp][]) {
      assert.throws(() => quickParse(argv), re, JSON.stringify(argv));
      await assert.rejects(viaYargs(argv), re, JSON.stringify(argv));
    }
    assert.throws(() => quickParse(["job", "status", "x", "y"]), /at most one job id/);
  });

  it("an unknown action still fails the yargs way", async () => {
    await assert.rejects(viaYargs(["*", "reboot"]), /Invalid values|reboot/);
  });
});
