// Target specs -> host names (DESIGN section 8): `;`- or `,`-separated globs and node sets (`web[01-20,30]`),
// `@group` and `@group:glob`, matched against the universe of signed minion certs, minus `--exclude`. Pure: the
// caller supplies names and groups.

import { FuncError } from "./errors.js";
import { globToRegExp, isGlob } from "./glob.js";
import { splitOutsideBrackets } from "./node-set.js";

export type SpecPart = { kind: "glob"; pattern: string } | { kind: "group"; group: string; pattern: string | null };

/** group name -> member globs */
export type Groups = Readonly<Record<string, readonly string[]>>;

/** Longest spec we accept: a spec is typed by people or scripts, never megabytes. */
export const MAX_SPEC_LENGTH = 64 * 1024;

export function parseSpec(spec: string): SpecPart[] {
  if (spec.length > MAX_SPEC_LENGTH) throw new FuncError("UsageError", `target spec longer than ${MAX_SPEC_LENGTH} characters`);
  const parts: SpecPart[] = [];
  // `;` always separates; `,` only outside brackets
  for (const raw of spec.split(";").flatMap((p) => splitOutsideBrackets(p, ","))) {
    const part = raw.trim();
    if (part === "") continue;
    if (part.startsWith("@")) {
      const colon = part.indexOf(":");
      const group = (colon === -1 ? part.slice(1) : part.slice(1, colon)).trim().toLowerCase();
      if (group === "") throw new FuncError("UsageError", `empty group name in target spec part "${part}"`);
      const pattern = colon === -1 ? null : part.slice(colon + 1).trim() || "*";
      parts.push({ kind: "group", group, pattern });
    } else parts.push({ kind: "glob", pattern: part });
  }
  return parts;
}

function expandParts(parts: readonly SpecPart[], names: readonly string[], groups: Groups, into: Set<string>): void {
  for (const part of parts) {
    if (part.kind === "glob") {
      const re = globToRegExp(part.pattern);
      for (const name of names) if (re.test(name)) into.add(name);
      continue;
    }
    const members = groups[part.group];
    if (members === undefined) {
      const known = Object.keys(groups).sort();
      throw new FuncError(
        "UsageError",
        `no group named "${part.group}"` + (known.length ? ` (groups: ${known.join(", ")})` : " (no groups are defined)"),
      );
    }
    const within = part.pattern === null ? null : globToRegExp(part.pattern);
    // plain names are looked up in a set: a 1000-host group is 1000 lookups, not a million regex tests
    const exact = new Set(members.filter((m) => !isGlob(m)).map((m) => m.toLowerCase()));
    const memberRes = members.filter(isGlob).map((m) => globToRegExp(m));
    for (const name of names) {
      if (within && !within.test(name)) continue;
      if (exact.has(name.toLowerCase()) || memberRes.some((re) => re.test(name))) into.add(name);
    }
  }
}

/**
 * Resolves a spec to the sorted list of matching names. Throws NoMatch naming the spec when nothing is left,
 * so a typo never turns into a silent no-op.
 */
export function resolveTargets(
  spec: string,
  universe: { names: readonly string[]; groups?: Groups; /** where the names come from, named when there are none */ source?: string },
  exclude?: string,
): string[] {
  const groups = universe.groups ?? {};
  const parts = parseSpec(spec);
  if (parts.length === 0) throw new FuncError("UsageError", "empty target spec");
  const matched = new Set<string>();
  expandParts(parts, universe.names, groups, matched);
  if (exclude !== undefined && exclude.trim() !== "") {
    const removed = new Set<string>();
    expandParts(parseSpec(exclude), universe.names, groups, removed);
    for (const name of removed) matched.delete(name);
  }
  if (matched.size === 0) {
    const why = universe.names.length === 0 ? ` (no minions are enrolled${universe.source ? `: no signed certs in ${universe.source}` : ""})` : "";
    throw new FuncError("NoMatch", `no minions match "${spec}"${exclude ? ` excluding "${exclude}"` : ""}${why}`);
  }
  return [...matched].sort();
}
