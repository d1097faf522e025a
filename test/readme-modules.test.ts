// The README's module table is checked against the signature table: every module, in declaration order,
// and exactly the methods it declares (what the README names must exist, and nothing may be left out).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SIGNATURES } from "@func/shared";
import { REPO } from "./helpers/fleet.js";

/** Module name -> the method names its README row shows (`name(` in a code span; `a/b/c(x)` names three). */
function readmeTable(): Map<string, Set<string>> {
  const text = readFileSync(join(REPO, "README.md"), "utf8");
  const section = text.slice(text.indexOf("### Minion modules"));
  const rows = new Map<string, Set<string>>();
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("#")) break;
    const m = /^\| `([a-z_]+)` \| (.*) \|$/.exec(line);
    if (!m) continue;
    const methods = new Set<string>();
    for (const [, span] of m[2]!.matchAll(/`([^`]*)`/g)) {
      const call = /^([A-Za-z_/]+)\(/.exec(span!);
      if (call) for (const name of call[1]!.split("/")) methods.add(name);
    }
    rows.set(m[1]!, methods);
  }
  return rows;
}

describe("README module table", () => {
  it("lists every module of the signature table, in its order, with exactly its methods", () => {
    const table = readmeTable();
    assert.deepEqual([...table.keys()], SIGNATURES.map((m) => m.name));
    for (const m of SIGNATURES) assert.deepEqual([...table.get(m.name)!].sort(), Object.keys(m.methods).sort(), m.name);
  });
});
