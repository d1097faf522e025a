// The delegation map (DESIGN section 12): which leaves sit under which sub-overlord, built by asking every
// direct minion `delegation.map` (each sub-overlord asks its own, recursively) and stored in the overlord's
// home (map.json). Reading it, routing leaves through it and printing it as a tree are pure.

import { existsSync, readFileSync } from "node:fs";
import {
  FORMAT_FIELD,
  FuncError,
  STORE_FORMATS,
  checkFileFormat,
  foldNames,
  readMapNode,
  writeFileAtomic,
  type DelegationMap,
  type HomePaths,
  type HostResult,
  type MapNode,
} from "@func/shared";

/** Every leaf under a node, its sub-overlords' leaves included (the sub-overlords themselves are not leaves). */
export function leavesUnder(node: MapNode): string[] {
  const out: string[] = [...node.leaves];
  for (const sub of node.subs) out.push(...leavesUnder(sub));
  return out;
}

/** leaf -> the top-level sub-overlord its share goes to. A leaf under two sub-overlords goes to the first. */
export function routeTable(map: DelegationMap): Map<string, string> {
  const route = new Map<string, string>();
  for (const sub of map.subs) for (const leaf of leavesUnder(sub)) if (!route.has(leaf)) route.set(leaf, sub.name);
  return route;
}

/** The stored map, or null when none was built; a map in a newer format than this func's is a ConfigError. */
export function loadMap(paths: HomePaths): DelegationMap | null {
  if (!existsSync(paths.delegationMap)) return null;
  let raw: { built?: unknown; subs?: unknown };
  try {
    raw = JSON.parse(readFileSync(paths.delegationMap, "utf8")) as { built?: unknown; subs?: unknown };
  } catch (err) {
    throw new FuncError("ConfigError", `${paths.delegationMap} is damaged (${(err as Error).message}): run "func map build" again`);
  }
  checkFileFormat(STORE_FORMATS.delegationMap, paths.delegationMap, raw);
  try {
    if (!Array.isArray(raw.subs)) throw new Error("no subs");
    return { built: String(raw.built ?? ""), subs: raw.subs.map((s) => readMapNode(s)) };
  } catch (err) {
    throw new FuncError("ConfigError", `${paths.delegationMap} is damaged (${(err as Error).message}): run "func map build" again`);
  }
}

export function saveMap(paths: HomePaths, map: DelegationMap): void {
  writeFileAtomic(paths.delegationMap, JSON.stringify({ [FORMAT_FIELD]: STORE_FORMATS.delegationMap.version, ...map }, null, 2) + "\n");
}

/**
 * The map from each direct minion's answer to `delegation.map`: a tree for a sub-overlord, null for a plain
 * minion. Minions that did not answer are reported, not guessed at; a name claimed twice keeps its first place.
 */
export function mapFromAnswers(answers: ReadonlyMap<string, HostResult>, now = new Date()): { map: DelegationMap; failed: [string, string][] } {
  const subs: MapNode[] = [];
  const failed: [string, string][] = [];
  for (const [name, result] of [...answers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (result.outcome !== "ok") {
      failed.push([name, `${result.outcome}: ${result.error.message}`]);
      continue;
    }
    if (result.value === null || result.value === "") continue;
    try {
      const node = readMapNode(result.value);
      // the sub-overlord names itself as the tier above knows it
      if (node.name !== name) throw new FuncError("BadArguments", `it calls itself ${node.name}`);
      subs.push(node);
    } catch (err) {
      failed.push([name, `bad map answer: ${(err as Error).message}`]);
    }
  }
  // with one CA for every tier a sub-sub-overlord is also a direct minion here: it is reached through its parent
  const nested = new Set(subs.flatMap((s) => leavesUnder(s)));
  return { map: { built: now.toISOString(), subs: subs.filter((s) => !nested.has(s.name)) }, failed };
}

/** `func map show`: the tree, each sub-overlord with the count of leaves under it. */
export function renderMap(map: DelegationMap, direct: readonly string[]): string {
  const lines: string[] = [];
  const routed = routeTable(map);
  const plain = direct.filter((d) => !routed.has(d) && !map.subs.some((s) => s.name === d));
  const total = routed.size;
  lines.push(`overlord: ${map.subs.length} sub-overlord(s), ${total} hosts behind them, ${plain.length} other direct minion(s) (built ${map.built})`);
  const walk = (node: MapNode, indent: string) => {
    lines.push(`${indent}${node.name}  (${leavesUnder(node).length} hosts: ${node.leaves.length} it calls itself, ${node.subs.length} sub-overlord(s))`);
    if (node.leaves.length) lines.push(`${indent}  ${compact(node.leaves)}`);
    for (const s of node.subs) walk(s, indent + "  ");
  };
  for (const s of map.subs) walk(s, "  ");
  return lines.join("\n") + "\n";
}

function compact(names: readonly string[]): string {
  return `${foldNames(names)} (${names.length})`;
}
