// func group (a round trip through the groups file), func completion, func-transmit with good and malformed
// JSON, and the exit code of every outcome mix; against a real 3-minion fleet.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, OUTCOMES, exitCodeForResults, failure, homePaths, type HostResult, type Outcome } from "@func/shared";
import { REPO, func, startFleet, type RunResult, type TestFleet } from "./helpers/fleet.js";

const TRANSMIT_BIN = join(REPO, "packages/overlord/bin/func-transmit.js");

function transmit(home: string, input: string, args: string[] = []): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRANSMIT_BIN, ...args], { env: { ...process.env, FUNC_HOME: home }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("func group, completion, func-transmit and exit codes", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet("cli-commands", 143, 3);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("groups round trip: add, show, use as a target, remove a member, remove the group", async () => {
    let r = await func(fleet.home, ["group", "add", "Web", "minion0[1-2]", "nosuch*"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(homePaths(fleet.home).groupsFile, "utf8"), /^\[web\]\nhosts = minion0\[1-2\], nosuch\*$/m);
    r = await func(fleet.home, ["group", "show", "web"]);
    assert.equal(r.stdout, "web: minion0[1-2], nosuch*\nmatches 2 hosts: minion[01-02]\n");
    r = await func(fleet.home, ["@web", "list_minions"]);
    assert.equal(r.stdout, "minion01\nminion02\n");
    await func(fleet.home, ["group", "add", "db", "minion03"]);
    r = await func(fleet.home, ["group", "list"]);
    assert.equal(r.stdout, "db  minion03\nweb  minion0[1-2], nosuch*\n");
    r = await func(fleet.home, ["group", "remove", "web", "nosuch*"]);
    assert.equal(r.code, 0, r.stderr);
    r = await func(fleet.home, ["group", "show", "web", "--json"]);
    assert.deepEqual(JSON.parse(r.stdout), { group: "web", members: ["minion0[1-2]"], hosts: ["minion01", "minion02"] });
    r = await func(fleet.home, ["group", "remove", "web"]);
    assert.equal(r.code, 0);
    assert.equal((await func(fleet.home, ["group", "list"])).stdout, "db  minion03\n");
    // what an operator wrote by hand stays: comments, other keys, the order of the groups
    const file = homePaths(fleet.home).groupsFile;
    writeFileSync(file, "# groups of the lab\n[ops]\n# the on-call boxes\nhosts = minion01\nowner = ann\n\n[db]\nhosts = minion03\n");
    assert.equal((await func(fleet.home, ["group", "add", "ops", "minion02"])).code, 0);
    assert.equal((await func(fleet.home, ["group", "add", "new", "minion0[1-3]"])).code, 0);
    assert.equal((await func(fleet.home, ["group", "remove", "db"])).code, 0);
    assert.equal(readFileSync(file, "utf8"), "# groups of the lab\n[ops]\n# the on-call boxes\nhosts = minion01, minion02\nowner = ann\n\n[new]\nhosts = minion0[1-3]\n");
    assert.equal((await func(fleet.home, ["group", "list"])).stdout, "new  minion0[1-3]\nops  minion01, minion02\n");
    // six operators adding at once: each change is kept (the file is changed under the host lock)
    const adds = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => func(fleet.home, ["group", "add", "busy", `host${n}`])));
    for (const a of adds) assert.equal(a.code, 0, a.stderr);
    const busy = JSON.parse((await func(fleet.home, ["group", "show", "busy", "--json"])).stdout) as { members: string[] };
    assert.deepEqual([...busy.members].sort(), ["host1", "host2", "host3", "host4", "host5", "host6"]);
    for (const [args, re] of [
      [["group", "add", "web"], /needs members/],
      [["group", "add", "bad name!", "x"], /is not a group name/],
      [["group", "add", "web", "a[z-b]"], /reversed/],
      [["group", "add", "web", "a,b"], /give members as separate words/],
      [["group", "remove", "nosuch"], /no group named "nosuch"/],
      [["group", "frob"], /func group takes add, remove, list, show/],
      [["group", "list", "x"], /takes no arguments/],
    ] as [string[], RegExp][]) {
      const bad = await func(fleet.home, args);
      assert.equal(bad.code, EXIT.USAGE, args.join(" "));
      assert.match(bad.stderr, re);
    }
  });

  it("completion scripts for bash and zsh name the commands, actions, options, modules and methods", async () => {
    const bash = await func(fleet.home, ["completion", "bash"]);
    assert.equal(bash.code, 0);
    assert.match(bash.stdout, /^complete -o default -F _func func$/m);
    for (const w of ["call", "ping", "copyfile", "--batch", "--failhard", "--out", "--list-targets", "status wait list purge", "add remove list show"]) assert.ok(bash.stdout.includes(w), w);
    assert.match(bash.stdout, /func '\*' --list-targets/, "host names from the certs, no network");
    const zsh = await func(fleet.home, ["completion", "zsh"]);
    assert.match(zsh.stdout, /^#compdef func$/m);
    assert.ok(zsh.stdout.includes("--subset"));
    // the bash script run for real: `func "*" call com<TAB>` and `func "*" call command <TAB>`
    const complete = (line: string[], cword: number): string =>
      execFileSync(
        "bash",
        ["-c", `eval "$(cat)"; COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${cword}; _func; echo "\${COMPREPLY[*]}"`],
        { input: bash.stdout, encoding: "utf8" },
      ).trim();
    assert.equal(complete(["func", "*", "call", "com"], 3), "command");
    assert.equal(complete(["func", "*", "call", "command", ""], 4), "run exists");
    assert.equal(complete(["func", "*", "call", "file", "upload_c"], 4), "upload_chunk upload_commit");
    assert.equal(complete(["func", "*", "p"], 2), "ping");
    assert.ok(zsh.stdout.includes("sysctl) compadd -- list get set inventory"), "zsh completes methods too");
    const bad = await func(fleet.home, ["completion", "fish"]);
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /completion takes bash or zsh, got "fish"/);
  });

  it("func-transmit: a call, an async call and its job_status, as JSON in and out", async () => {
    const r = await transmit(fleet.home, JSON.stringify({ clients: "*", module: "test", method: "add", parameters: [1, 2], async: false }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as { job: null; hosts: Record<string, { outcome: string; value: number }>; summary: { ok: number } };
    assert.deepEqual(Object.keys(doc.hosts), ["minion01", "minion02", "minion03"]);
    assert.equal(doc.hosts.minion02!.value, 3);
    assert.equal(doc.summary.ok, 3);
    const a = await transmit(fleet.home, JSON.stringify({ clients: "minion01", module: "test", method: "ping", async: true }));
    const { job } = JSON.parse(a.stdout) as { job: string };
    assert.match(job, /^\d{8}T\d{6}-[0-9a-f]+$/);
    let status: { status: string; hosts: Record<string, { outcome: string }> } | undefined;
    for (let i = 0; i < 100 && status?.status !== "FINISHED"; i++) {
      const s = await transmit(fleet.home, JSON.stringify({ method: "job_status", parameters: job }));
      status = JSON.parse(s.stdout) as typeof status;
    }
    assert.equal(status!.status, "FINISHED");
    assert.equal(status!.hosts.minion01!.outcome, "ok");
    const list = await transmit(fleet.home, JSON.stringify({ clients: "minion0[2-3]", method: "list_minions" }));
    assert.deepEqual(JSON.parse(list.stdout), { hosts: ["minion02", "minion03"] });
  });

  it("func-transmit: malformed or wrong requests answer a JSON error with a code, exit 1 (16 for no match)", async () => {
    for (const [input, re, code] of [
      ["{not json", /not JSON/, EXIT.USAGE],
      ["[1,2]", /must be a JSON object/, EXIT.USAGE],
      ["", /not JSON/, EXIT.USAGE],
      [JSON.stringify({ clients: "*", module: "test", method: "add", parameters: "1 2" }), /"parameters" must be a JSON array/, EXIT.USAGE],
      [JSON.stringify({ clients: "*", module: "../x", method: "add" }), /"module" must be a module name/, EXIT.USAGE],
      [JSON.stringify({ clients: "*", module: "test", method: "ping", bogus: 1 }), /unknown field "bogus"/, EXIT.USAGE],
      [JSON.stringify({ method: "job_status", parameters: "../../etc/passwd" }), /is not a job id/, EXIT.USAGE],
      [JSON.stringify({ clients: "nosuch*", module: "test", method: "ping" }), /no minions match "nosuch\*"/, EXIT.NO_MATCH],
      [JSON.stringify({ clients: "web0[3-1]", module: "test", method: "ping" }), /reversed/, EXIT.USAGE],
    ] as [string, RegExp, number][]) {
      const r = await transmit(fleet.home, input);
      assert.equal(r.code, code, `${input}: ${r.stdout}`);
      const answer = JSON.parse(r.stdout) as { error: { code: number; type: string; message: string } };
      assert.equal(typeof answer.error.code, "number");
      assert.match(answer.error.message, re, input);
      assert.equal(r.stderr, "");
    }
    const args = await transmit(fleet.home, "{}", ["extra"]);
    assert.equal(args.code, EXIT.USAGE);
    assert.match(JSON.parse(args.stdout).error.message, /takes no arguments/);
  });

  it("check: every part of the home, with a fix for each problem; dump_config: the settings in effect", async () => {
    const r = await func(fleet.home, ["check", "--json"]);
    const doc = JSON.parse(r.stdout) as { checks: { what: string; ok: boolean; fix?: string }[] };
    const byName = Object.fromEntries(doc.checks.map((c) => [c.what, c]));
    for (const what of ["config", "CA cert", "overlord cert", "CRL", "job store", "test.ping"]) assert.equal(byName[what]?.ok, true, `${what}: ${JSON.stringify(byName[what])}`);
    // the fleet's enrollment service stops once the fleet is up: reported, with the fix
    assert.equal(byName["CA service"]!.ok, false);
    assert.match(byName["CA service"]!.fix!, /func-ca serve/);
    assert.equal(r.code, EXIT.ERROR);
    const human = await func(fleet.home, ["check", "minion0[1-2]"]);
    assert.match(human.stdout, /^ok +test\.ping +2 of 2 hosts answer$/m);
    assert.match(human.stdout, /^FAIL {2}CA service .*\n +fix: start it: func-ca serve$/m);
    const dump = await func(fleet.home, ["dump_config"]);
    assert.equal(dump.code, 0);
    assert.match(dump.stdout, new RegExp(`^configDir = ${fleet.home}$`, "m"));
    assert.match(dump.stdout, /^socketTimeoutS = 30$/m);
    assert.equal((JSON.parse((await func(fleet.home, ["dump_config", "--json"])).stdout) as { config: { minionPort: number } }).config.minionPort, 51234);
  });

  it("every run is recorded: job rerun last --only failed|ok runs that subset again, and is recorded too", async () => {
    const second = fleet.minions.find((m) => m.name === "minion02")!.pid;
    const cmd = `[ $PPID != ${second} ]`;
    const first = await func(fleet.home, ["*", "call", "command", "run", cmd]);
    assert.equal(first.code, EXIT.COMMAND_FAILED, first.stderr);
    const list = await func(fleet.home, ["job", "list", "--json", "--limit", "1"]);
    const [job] = (JSON.parse(list.stdout) as { jobs: { id: string; status: string; module: string; method: string; total: number }[] }).jobs;
    assert.deepEqual([job!.status, job!.module, job!.method, job!.total], ["FINISHED", "command", "run", 3]);
    const status = await func(fleet.home, ["job", "status", job!.id]);
    assert.match(status.stdout, /^minion02 +rc=1/m);
    const failed = await func(fleet.home, ["job", "rerun", "last", "--only", "failed"]);
    assert.equal(failed.code, EXIT.COMMAND_FAILED, failed.stderr);
    assert.equal(failed.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]).join(" "), "minion02");
    assert.match(failed.stderr, new RegExp(`rerun of job ${job!.id} \\(command\\.run\\) on the 1 failed host`));
    // the rerun is the newest job now; rerun the first one by id
    const ok = await func(fleet.home, ["job", "rerun", job!.id, "--only", "ok"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]).join(" "), "minion01 minion03");
    const none = await func(fleet.home, ["job", "rerun", job!.id, "--only", "unreachable"]);
    assert.equal(none.code, 0);
    assert.match(none.stderr, /no host ended unreachable; nothing to rerun/);
    const bad = await func(fleet.home, ["job", "rerun", "last", "--only", "bogus"]);
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /--only takes failed, unreachable, ok; got "bogus"/);
    assert.match((await func(fleet.home, ["job", "rerun"])).stderr, /job rerun needs a job id or last/);
  });

  it("the exit code of every outcome mix ORs the outcome bits, plus 32 for a non-zero rc", async () => {
    const of = (o: Outcome, rc?: number): HostResult => (o === "ok" ? { outcome: "ok", value: rc === undefined ? 1 : { rc, stdout: "", stderr: "" } } : failure(o, "MethodError", "m"));
    const bit: Record<Outcome, number> = { ok: 0, error: 2, denied: 2, unreachable: 4, timeout: 8, lost: 8, skipped: 2 };
    // every subset of the outcomes, with and without a failed command
    for (let mask = 0; mask < 1 << OUTCOMES.length; mask++) {
      const chosen = OUTCOMES.filter((_, i) => mask & (1 << i));
      const want = chosen.reduce((c, o) => c | bit[o], 0);
      assert.equal(exitCodeForResults(chosen.map((o) => of(o))), want, chosen.join("+"));
      assert.equal(exitCodeForResults([...chosen.map((o) => of(o)), of("ok", 3)]), want | EXIT.COMMAND_FAILED, `${chosen.join("+")}+rc3`);
    }
    assert.equal(exitCodeForResults([of("ok", 0)]), 0);
    // and a real mix: ok, error (the method raised) and a command that exited non-zero
    const raised = await func(fleet.home, ["minion01", "call", "test", "explode"]);
    assert.equal(raised.code, EXIT.ERROR);
    const killed = await func(fleet.home, ["*", "-t", "1", "call", "test", "sleep", "5"]);
    assert.equal(killed.code, EXIT.TIMEOUT);
  });
});
