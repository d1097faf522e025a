// Whatever an operator types, `func` answers with an exit code or a FuncError (one line at the boundary),
// never a crash: random specs, option mixes and argument lists through the real parser and commands, in
// process, against a home with no minions (so nothing reaches the network).

import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import fc from "fast-check";
import { funcMain } from "@func/overlord/cli";
import { FuncError, homePaths } from "@func/shared";
import { tempHome } from "./helpers/fleet.js";

const SPECS = ["*", "web[01-03]", "web0[3-1]", "db[1,3],web*", "@nogroup", "a[", "x[z-a]", "web[1-99999999]", ";", ",", "@", "n[01-10]-r[1-2]"];
const OPTIONS = ["-t", "--timeout", "-e", "--exclude", "-f", "--forks", "--json", "--jsonl", "--str", "-b", "--fold", "--color", "--no-color", "-a", "--async", "-n", "--nopoll", "-s", "--jobstatus", "--limit", "--older-than", "--", "-x", "--jsno"];
const WORDS = ["call", "ping", "list_minions", "copyfile", "getfile", "job", "status", "wait", "list", "purge", "test", "add", "command", "run", "1", "-1", "0", "2.5", "1e400", "true", "null", "[1,", "{}", '"s"', "", "7d", "nonsense", "/etc/motd", "x y"];

describe("func never crashes on what is typed", function () {
  this.timeout(120_000);
  let home: string;
  before(() => {
    home = tempHome("cli-property");
    mkdirSync(homePaths(home).pkiDir, { recursive: true });
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it("random argument lists give an exit code or a FuncError", async () => {
    const token = fc.oneof(fc.constantFrom(...SPECS), fc.constantFrom(...OPTIONS), fc.constantFrom(...WORDS), fc.string({ maxLength: 6 }));
    const argv = fc.oneof(
      fc.array(token, { maxLength: 8 }),
      // the shapes people type: <spec> <action> [options and words]
      fc.tuple(fc.constantFrom(...SPECS), fc.constantFrom("call", "ping", "list_minions", "copyfile", "getfile"), fc.array(token, { maxLength: 6 })).map(([s, a, r]) => [s, a, ...r]),
      fc.tuple(fc.constantFrom("status", "wait", "list", "purge"), fc.array(token, { maxLength: 4 })).map(([a, r]) => ["job", a, ...r]),
    );
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const out: string[] = [];
        try {
          const code = await funcMain(args, { FUNC_HOME: home, HOME: home, PATH: process.env.PATH ?? "" }, { out: (s) => out.push(s), err: (s) => out.push(s) }, { stdout: false, stderr: false });
          assert.equal(typeof code, "number");
        } catch (err) {
          if (!(err instanceof FuncError)) throw new Error(`func ${JSON.stringify(args)} threw ${(err as Error).stack}`);
          assert.doesNotMatch(err.message, /\n/, "one line");
        }
      }),
      { numRuns: 300 },
    );
    // async calls and job queries on a home with no minions and no jobs create nothing
    assert.deepEqual(readdirSync(home), ["pki"], "nothing was created in the home");
  });
});
