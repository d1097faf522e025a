// Every command answers --version with the one project version, and an unknown option with one line
// (never a stack trace) and a non-zero exit.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FUNC_VERSION } from "@func/shared";
import { FUNCD_BIN, FUNC_BIN, FUNC_CA_BIN, FUNC_FLEET_BIN, REPO, runBin } from "./helpers/fleet.js";

const BINS: [string, string][] = [
  ["func", FUNC_BIN],
  ["func-ca", FUNC_CA_BIN],
  ["func-fleet", FUNC_FLEET_BIN],
  ["funcd", FUNCD_BIN],
];

describe("--version and unknown options", () => {
  it("FUNC_VERSION is the version of every package", () => {
    for (const dir of [".", "packages/shared", "packages/minion", "packages/overlord"]) {
      const pkg = JSON.parse(readFileSync(join(REPO, dir, "package.json"), "utf8")) as { version: string };
      assert.equal(pkg.version, FUNC_VERSION, dir);
    }
  });

  it("func ping and list_minions take no arguments: a mistyped option is a usage error, before any call", async () => {
    for (const args of [["*", "ping", "--jsno"], ["*", "list_minions", "extra"], ["*", "--json", "ping", "x"]]) {
      const r = await runBin(FUNC_BIN, args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /takes no arguments/);
    }
  });

  it("func names an unknown option where no argument can be, before any call", async () => {
    for (const args of [["*", "--jsno", "call", "test", "ping"], ["*", "call", "--jsno", "test", "ping"], ["*", "call", "test", "--jsno"], ["job", "--jsno", "list"]]) {
      const r = await runBin(FUNC_BIN, args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /unknown option "--jsno"/, args.join(" "));
    }
  });

  for (const [name, bin] of BINS) {
    it(`${name} --version prints "${name} <version>"`, async () => {
      const r = await runBin(bin, ["--version"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${name} ${FUNC_VERSION}\n`);
    });
    it(`${name} with an unknown option says so in one line`, async () => {
      const r = await runBin(bin, ["--no-such-option"]);
      assert.notEqual(r.code, 0);
      // func takes options it does not know as arguments (`call command run ls -la`): alone, it is a usage error
      assert.match(r.stderr, name === "func" ? /see func --help/ : /no-such-option/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }
});
