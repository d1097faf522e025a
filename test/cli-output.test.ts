// Every output format against a real 12-minion fleet whose hosts give 3 distinct results (3 funcd processes of
// 4 minions; the command prints its funcd's pid): golden outputs with times and pids normalised, folding,
// --diff, -N, --stats, rolling batches with a failure and --failhard, --subset, --list-targets, TTY vs pipe
// (a pseudo-terminal through `script -qc`) and NO_COLOR.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { EXIT } from "@func/shared";
import { FUNC_BIN, func, runBin, startFleet, type TestFleet } from "./helpers/fleet.js";

const WHO = "echo pid $PPID";
const ESC = "\u001b";

describe("func output formats, batches and terminals", function () {
  this.timeout(180_000);
  let fleet: TestFleet;
  let pids: string[];
  /** pid -> P1, P2, P3 in host order, and durations -> 0 */
  let normal: (s: string) => string;
  before(async () => {
    fleet = await startFleet("cli-output", 142, 12, { perProcess: 4 });
    pids = [...new Set(fleet.minions.map((m) => String(m.pid)))];
    normal = (s) =>
      pids
        .reduce((t, pid, i) => t.replaceAll(pid, `P${i + 1}`), s)
        .replace(/"ms": ?[\d.]+/g, '"ms": 0')
        .replace(/in \d+\.\d+s/g, "in 0.00s");
  });
  after(async () => {
    await fleet?.stop();
  });
  const run = async (...args: string[]) => {
    const r = await func(fleet.home, args);
    return { ...r, stdout: normal(r.stdout), stderr: normal(r.stderr) };
  };

  it("table (the default), sorted in a pipe", async () => {
    const r = await run("minion[01-12]", "call", "command", "run", WHO);
    assert.equal(r.code, 0, r.stderr);
    const want = Array.from({ length: 12 }, (_, i) => `minion${String(i + 1).padStart(2, "0")}  ok           pid P${Math.floor(i / 4) + 1}\n`).join("");
    assert.equal(r.stdout, want);
    assert.equal(r.stderr, "12 hosts: 12 ok in 0.00s\n");
  });

  it("--fold and --out fold: 3 distinct results over 12 hosts, each under its folded node set", async () => {
    const want = "minion[01-04] (4)  ok           pid P1\nminion[05-08] (4)  ok           pid P2\nminion[09-12] (4)  ok           pid P3\n";
    for (const flag of ["--fold", "-b"]) assert.equal((await run("*", flag, "call", "command", "run", WHO)).stdout, want);
    assert.equal((await run("*", "--out", "fold", "call", "command", "run", WHO)).stdout, want);
  });

  it("txt, oneline and -N", async () => {
    const two = "minion0[1,5]";
    assert.equal((await run(two, "--out", "txt", "call", "command", "run", `${WHO}; echo second`)).stdout, "minion01: pid P1\nminion01: second\nminion05: pid P2\nminion05: second\n");
    assert.equal((await run(two, "--oneline", "call", "command", "run", `${WHO}; echo second`)).stdout, "minion01: pid P1\nminion05: pid P2\n");
    assert.equal((await run(two, "--out", "oneline", "-N", "call", "command", "run", WHO)).stdout, "pid P1\npid P2\n");
    assert.equal((await run(two, "-N", "call", "command", "run", WHO)).stdout, "pid P1\npid P2\n");
    const failed = await run("minion01", "--oneline", "call", "command", "run", "echo no; exit 4");
    assert.equal(failed.stdout, "minion01: rc=4: no\n");
    assert.equal(failed.code, EXIT.COMMAND_FAILED);
  });

  it("--diff: the most common result once, each other result as a diff against it", async () => {
    const r = await run("minion0[1-6]", "--diff", "call", "command", "run", `echo same; ${WHO}`);
    assert.equal(
      r.stdout,
      "minion[01-04] (4): the most common result\n  same\n  pid P1\nminion[05-06] (2): differs\n  same\n- pid P1\n+ pid P2\n",
    );
  });

  it("json and jsonl", async () => {
    const json = await run("minion0[1-2]", "--out", "json", "call", "test", "add", "1", "2");
    assert.equal(
      json.stdout,
      JSON.stringify({ job: null, hosts: { minion01: { outcome: "ok", value: 3, ms: 0 }, minion02: { outcome: "ok", value: 3, ms: 0 } }, summary: { ok: 2, error: 0, denied: 0, unreachable: 0, timeout: 0, lost: 0, skipped: 0 } }, null, 2).replace(/"ms": 0/g, '"ms": 0') + "\n",
    );
    const jsonl = await run("minion0[1-2]", "--out", "jsonl", "call", "test", "add", "1", "2");
    const lines = jsonl.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.slice(0, 2).map((l) => l.host).sort(), ["minion01", "minion02"]);
    assert.deepEqual(lines[2], { summary: { ok: 2, error: 0, denied: 0, unreachable: 0, timeout: 0, lost: 0, skipped: 0 }, job: null });
    const bad = await run("*", "--out", "yaml", "ping");
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /--out takes table, json, jsonl, txt, fold, oneline, diff; got "yaml"/);
    assert.match((await run("*", "--json", "--oneline", "ping")).stderr, /choose one output format/);
  });

  it("--stats: latency percentiles and the 5 slowest hosts", async () => {
    const r = await func(fleet.home, ["*", "--stats", "ping"]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^latency p50 \d+ms p95 \d+ms p99 \d+ms \(12 hosts\); slowest: (minion\d\d \d+ms, ){4}minion\d\d \d+ms$/m);
  });

  it("--batch with a failure and --failhard: the hosts never started are skipped, exit bits say so", async () => {
    const second = String(fleet.minions.find((m) => m.name === "minion05")!.pid);
    // fails on the second batch's funcd only
    const cmd = `[ $PPID != ${second} ]`;
    const hard = await run("*", "--batch", "4", "--failhard", "call", "command", "run", cmd);
    assert.equal(hard.code, EXIT.COMMAND_FAILED | EXIT.ERROR, hard.stderr);
    const rows = hard.stdout.trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2).join(" "));
    assert.deepEqual(rows.slice(0, 8), [...["01", "02", "03", "04"].map((n) => `minion${n} ok`), ...["05", "06", "07", "08"].map((n) => `minion${n} rc=1`)]);
    assert.deepEqual(rows.slice(8), ["09", "10", "11", "12"].map((n) => `minion${n} skipped`));
    assert.match(hard.stdout, /minion09 +skipped +Skipped: never started: --failhard stopped after a failure/);
    assert.match(hard.stderr, /12 hosts: 8 ok \(4 exited non-zero\), 4 skipped/);
    const soft = await run("*", "--batch", "25%", "--batch-wait", "0.1", "call", "command", "run", cmd);
    assert.equal(soft.code, EXIT.COMMAND_FAILED, "without --failhard every batch runs");
    assert.doesNotMatch(soft.stdout, /skipped/);
    for (const [args, re] of [
      [["--failhard", "ping"], /--failhard goes with --batch/],
      [["--batch", "0", "ping"], /--batch takes a number of hosts or a percentage/],
      [["--batch", "150%", "ping"], /--batch takes/],
      [["--subset", "0", "ping"], /--subset takes a whole number/],
    ] as [string[], RegExp][]) {
      const r = await run("*", ...args);
      assert.equal(r.code, EXIT.USAGE, args.join(" "));
      assert.match(r.stderr, re);
    }
  });

  it("--subset N runs on N random matched hosts; --list-targets prints the matches without the network", async () => {
    const r = await run("*", "--subset", "3", "ping");
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim().split("\n").length, 3);
    assert.match(r.stderr, /subset: 3 of 12 matched hosts/);
    const list = await run("minion[01-03],minion12", "--list-targets");
    assert.equal(list.stdout, "minion01\nminion02\nminion03\nminion12\n");
    assert.equal((await run("minion[01-03],minion12", "--list-targets", "--fold")).stdout, "minion[01-03,12] (4)\n");
  });

  it("on a terminal: hosts stream with a progress line on stderr, colors unless NO_COLOR; in a pipe: no progress", async function () {
    const tty = (env: string) =>
      spawnSync("script", ["-qec", `env ${env} FUNC_HOME=${fleet.home} ${process.execPath} ${FUNC_BIN} '*' call command run 'echo hi'`, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
    const colored = tty("-u NO_COLOR");
    assert.equal(colored.status, 0, colored.stdout);
    assert.match(colored.stdout, new RegExp(`\r${ESC}\\[K\\d+/12 done, 0 failed, \\d+\\.\\ds`), "a progress line");
    assert.ok(colored.stdout.includes(`${ESC}[32mok`), "colored outcome");
    const plain = tty("NO_COLOR=1");
    assert.equal(plain.status, 0);
    assert.doesNotMatch(plain.stdout, new RegExp(`${ESC}\\[3\\dm`), "NO_COLOR: no colors");
    assert.match(plain.stdout, /done, 0 failed/, "the progress line is not color");
    const pipe = await runBin(FUNC_BIN, ["*", "call", "command", "run", "echo hi"], { FUNC_HOME: fleet.home, NO_COLOR: "" });
    assert.ok(!/[\r]/.test(pipe.stdout + pipe.stderr) && !(pipe.stdout + pipe.stderr).includes(ESC), "a pipe gets neither colors nor progress");
    assert.deepEqual(pipe.stdout.trim().split("\n").map((l) => l.split(" ")[0]), fleet.minions.map((m) => m.name).sort(), "sorted");
  });
});
