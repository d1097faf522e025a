// Target specs: globs, groups, exclusions, case-insensitivity and the no-match error (pure, no I/O).

import assert from "node:assert/strict";
import { FuncError, globMatch, parseSpec, resolveTargets } from "@func/shared";

const names = Array.from({ length: 20 }, (_, i) => `host${String(i).padStart(2, "0")}.example.com`).concat(["Web1", "db1", "db2"]);
const groups = { web: ["web*", "host0[0-4]*"], db: ["db*"] };

describe("target specs", () => {
  it("parses ;-separated parts, @group and @group:glob", () => {
    assert.deepEqual(parseSpec(" web* ; @DB ; @web:host0* ;; "), [
      { kind: "glob", pattern: "web*" },
      { kind: "group", group: "db", pattern: null },
      { kind: "group", group: "web", pattern: "host0*" },
    ]);
  });

  it("matches shell globs case-insensitively", () => {
    assert.ok(globMatch("WEB?", "web1"));
    assert.ok(globMatch("host1[0-2].*", "host11.example.com"));
    assert.ok(!globMatch("host1[!0-2].*", "host11.example.com"));
    assert.ok(globMatch("a.b", "A.B"));
    assert.ok(!globMatch("a.b", "axb"), "a dot is literal");
    assert.ok(globMatch("x[", "x["), "an unclosed bracket is literal");
  });

  it("resolves globs, groups, group:glob and --exclude to a sorted list", () => {
    assert.deepEqual(resolveTargets("db*;web1", { names, groups }), ["Web1", "db1", "db2"]);
    assert.deepEqual(resolveTargets("@web", { names, groups }).length, 6);
    assert.deepEqual(resolveTargets("@web:host*", { names, groups }), names.slice(0, 5));
    assert.deepEqual(resolveTargets("host1[0-5]*;@db", { names, groups }, "host1[3-9]*;db2"), [
      "db1",
      "host10.example.com",
      "host11.example.com",
      "host12.example.com",
    ]);
  });

  it("nothing matched is a NoMatch error naming the spec", () => {
    assert.throws(
      () => resolveTargets("mail*", { names, groups }),
      (e: unknown) => e instanceof FuncError && e.type === "NoMatch" && /mail\*/.test(e.message),
    );
    assert.throws(
      () => resolveTargets("db*", { names, groups }, "*"),
      (e: unknown) => e instanceof FuncError && e.type === "NoMatch",
    );
  });

  it("an unknown group is a usage error that lists the groups", () => {
    assert.throws(
      () => resolveTargets("@nope", { names, groups }),
      (e: unknown) => e instanceof FuncError && e.type === "UsageError" && /db, web/.test(e.message),
    );
  });
});
