// func-inventory against a real 2-minion fleet: every inventory() of every host written to
// <state>/inventory/<host>/<module>.json in a real git repository, one commit per run; --diff shows per host
// what changed (here a tracked file). Needs git.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { homePaths } from "@func/shared";
import { REPO, func, runBin, startFleet, type TestFleet } from "./helpers/fleet.js";

const BIN = join(REPO, "packages/overlord/bin/func-inventory.js");

function hasGit(): boolean {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("func-inventory", function () {
  this.timeout(180_000);
  let fleet: TestFleet;
  let repo: string;
  let tracked: string;
  const inv = (args: string[]) => runBin(BIN, args, { FUNC_HOME: fleet.home }, 120_000);
  const commits = () => execFileSync("git", ["-C", repo, "rev-list", "--count", "HEAD"]).toString().trim();

  before(async function () {
    if (!hasGit()) this.skip(); // .ci/run installs git; a bare machine without it cannot run this
    fleet = await startFleet("inventory-git", 135, 2);
    repo = join(homePaths(fleet.home).stateDir, "inventory");
    tracked = join(fleet.home, "tracked.conf");
    writeFileSync(tracked, "version 1\n");
    const r = await func(fleet.home, ["minion01", "call", "filetracker", "track", JSON.stringify([tracked])]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("writes <host>/<module>.json for every module with inventory() and commits the run", async () => {
    const r = await inv([]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 hosts snapshotted, commit [0-9a-f]{12}/);
    for (const host of ["minion01", "minion02"]) {
      for (const m of ["filetracker", "hardware", "mount", "network", "packages", "service", "sysctl", "system", "users"]) {
        assert.ok(existsSync(join(repo, host, `${m}.json`)), `${host}/${m}.json`);
      }
    }
    const snap = JSON.parse(readFileSync(join(repo, "minion01", "filetracker.json"), "utf8"));
    assert.ok(snap[tracked]?.sha256, JSON.stringify(snap));
    assert.equal(commits(), "1");
    assert.equal(execFileSync("git", ["-C", repo, "status", "--porcelain"]).toString(), "", "everything committed");
  });

  it("--diff shows per host what changed since the last run", async () => {
    writeFileSync(tracked, "version 2, longer\n");
    const r = await inv(["minion01"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(commits(), "2");
    const d = await inv(["--diff"]);
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.split("\n");
    assert.equal(lines[0], "minion01");
    assert.ok(lines.some((l) => l.startsWith(`  filetracker: ~ ${tracked}.size: 10 -> 18`)), d.stdout);
    assert.ok(lines.some((l) => l.startsWith(`  filetracker: ~ ${tracked}.sha256: `)), d.stdout);
    assert.ok(!d.stdout.includes("minion02"), "minion02 was not snapshotted again");
    const json = JSON.parse((await inv(["--diff", "HEAD~1", "--json"])).stdout);
    assert.ok(json.minion01.filetracker.length >= 2, JSON.stringify(json));
  });

  it("a bad word is one usage line, exit 1", async () => {
    const r = await inv(["--bogus"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^func-inventory: unknown option "--bogus"/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
});

describe("func-inventory without a repository", () => {
  it("--diff before any run says there is nothing", async () => {
    const home = join(process.env.TMPDIR ?? "/tmp", `func-inv-empty-${process.pid}`);
    mkdirSync(home, { recursive: true });
    try {
      const r = await runBin(BIN, ["--diff"], { FUNC_HOME: home });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /no changes/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
