// `func map build` (Func's func-build-map) and its recursion on each sub-overlord: ask every direct minion
// `delegation.map` (a sub-overlord asks its own before it answers), keep the trees that came back, store
// the map in this home. Minions that did not answer are listed, so a map is never silently partial.

import { PATH_HEADER, formatPath, type DelegationMap, type HostResult } from "@func/shared";
import type { Overlord } from "../call/overlord.js";
import { mapFromAnswers, saveMap } from "./map.js";

export interface BuiltMap {
  map: DelegationMap;
  /** direct minions that could not say (unreachable, refused, a bad answer), with why */
  failed: [string, string][];
  /** every direct minion asked */
  asked: string[];
}

/** Asks the overlord's direct minions (never through the map; `only` those named) and saves the map; `path` is the path down to this overlord. */
export async function buildMap(
  overlord: Overlord,
  opts: { path?: readonly string[]; timeoutMs?: number; save?: boolean; only?: readonly string[] } = {},
): Promise<BuiltMap> {
  // `only`: the caller knows which direct minions are sub-overlords (func-fleet made them): the rest are not asked
  const direct = overlord.directNames();
  const asked = opts.only ? direct.filter((n) => opts.only!.includes(n)) : direct;
  const answers = new Map<string, HostResult>();
  const headers = opts.path && opts.path.length > 0 ? { [PATH_HEADER]: formatPath(opts.path) } : undefined;
  if (asked.length > 0) {
    await overlord.fanOut(
      overlord.addresses(asked),
      { method: "delegation.map", params: [], timeoutMs: opts.timeoutMs ?? overlord.timeoutMs, ...(headers ? { headers } : {}) },
      (host, result) => answers.set(host, result),
    );
  }
  const { map, failed } = mapFromAnswers(answers);
  if (opts.save !== false) saveMap(overlord.paths, map);
  return { map, failed, asked };
}
