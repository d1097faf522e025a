// ClusterShell node sets in target specs (pure): ranges keep zero padding, several brackets multiply, `,`
// separates parts outside brackets, a reversed range is a one-line usage error, and folded output reads back.

import assert from "node:assert/strict";
import fc from "fast-check";
import { FuncError, expandNodeSetBody, foldNames, globMatch, parseSpec, resolveTargets } from "@func/shared";

const pad = (n: number, w: number) => String(n).padStart(w, "0");
const web = Array.from({ length: 40 }, (_, i) => `web${pad(i + 1, 2)}`);
const racks = [1, 2, 3].flatMap((r) => Array.from({ length: 40 }, (_, i) => `rack${r}-n${pad(i + 1, 2)}`));
const names = [...web, ...racks, "db1", "db2", "db10", "web1", "web100", "n1", "n01", "n10", "n010", "n100"];

const usage = (re: RegExp) => (e: unknown) => e instanceof FuncError && e.type === "UsageError" && re.test(e.message);

describe("node sets in target specs", () => {
  it("expands ranges with their zero padding", () => {
    assert.deepEqual(expandNodeSetBody("01-03,07"), ["01", "02", "03", "07"]);
    assert.deepEqual(expandNodeSetBody("8-11"), ["8", "9", "10", "11"]);
    assert.deepEqual(expandNodeSetBody("098-101"), ["098", "099", "100", "101"]);
  });

  it("matches web[01-03] (the form --fold prints), web[01-20,30] and rack[1-2]-n[01-40]", () => {
    assert.deepEqual(resolveTargets("web[01-03]", { names }), ["web01", "web02", "web03"]);
    assert.deepEqual(resolveTargets("web[01-20,30]", { names }).length, 21);
    assert.deepEqual(resolveTargets("rack[1-2]-n[01-40]", { names }).length, 80);
    assert.deepEqual(resolveTargets("db[1,10]", { names }), ["db1", "db10"]);
    // the padding is part of the name: web[1-3] is not web01
    assert.deepEqual(resolveTargets("web[1-3]", { names }), ["web1"]);
  });

  it("keeps shell character classes where the bracket is not a node set", () => {
    assert.ok(globMatch("db[12]", "db2"), "[12] is one of 1 and 2, as a shell reads it");
    assert.ok(!globMatch("db[12]", "db12"));
    assert.ok(globMatch("web0[1-3]", "web02"));
    assert.ok(globMatch("web[!0]*", "web1"));
  });

  it("splits parts at commas outside brackets", () => {
    assert.deepEqual(parseSpec("web[01-03,07],db1;@g"), [
      { kind: "glob", pattern: "web[01-03,07]" },
      { kind: "glob", pattern: "db1" },
      { kind: "group", group: "g", pattern: null },
    ]);
    assert.deepEqual(resolveTargets("web[01-02],db1", { names }), ["db1", "web01", "web02"]);
    assert.deepEqual(resolveTargets("web[01-05]", { names }, "web0[2-3],web05"), ["web01", "web04"]);
  });

  it("a reversed range or an oversized set is a one-line usage error, not a RegExp crash", () => {
    assert.throws(() => resolveTargets("web0[3-1]", { names }), usage(/reversed: write 1-3/));
    assert.throws(() => resolveTargets("web[05-01]", { names }), usage(/reversed/));
    assert.throws(() => resolveTargets("web[z-a]", { names }), usage(/reversed/));
    assert.throws(() => resolveTargets("n[1-9999999]", { names }), usage(/more than/));
  });

  it("a padded group takes the numbers of its width that need no padding: minion[09-12], not minion09,minion[10-12]", () => {
    assert.equal(foldNames(["minion09", "minion10", "minion11", "minion12"]), "minion[09-12]");
    assert.equal(foldNames(["minion01", "minion02", "minion03", "minion12"]), "minion[01-03,12]");
    assert.equal(foldNames(["n1", "n9", "n10"]), "n[1,9-10]");
    assert.equal(foldNames(["n01", "n1", "n10"]), "n1,n[01,10]");
  });

  it("folded names read back as the same hosts", () => {
    const sample = fc.subarray(names, { minLength: 1 });
    fc.assert(
      fc.property(sample, (some) => {
        assert.deepEqual(resolveTargets(foldNames(some), { names }), [...some].sort());
      }),
      { numRuns: 50 },
    );
  });

  it("any spec gives hosts or a FuncError, never anything else", () => {
    const piece = fc.oneof(
      fc.constantFrom("web", "db", "rack", "-n", "*", "?", "[", "]", "-", ",", ";", "@", ":", "!", "^", "\\", "(", "."),
      fc.nat({ max: 120 }).map(String),
      fc.string({ maxLength: 4 }),
    );
    const spec = fc.array(piece, { maxLength: 12 }).map((p) => p.join(""));
    fc.assert(
      fc.property(spec, fc.option(spec), (s, ex) => {
        try {
          const hosts = resolveTargets(s, { names, groups: { g: ["web0[1-3]", "db*"] } }, ex ?? undefined);
          assert.ok(Array.isArray(hosts) && hosts.length > 0);
        } catch (err) {
          if (!(err instanceof FuncError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
