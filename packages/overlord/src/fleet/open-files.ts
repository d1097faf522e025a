// How many files one funcd process of the local fleet may open, checked before `func-fleet up` starts it: a
// minion holds a listening socket and its audit log open, and a call adds connections. Read from /proc.

import { readFileSync } from "node:fs";
import { FuncError } from "@func/shared";

/** Descriptors each minion of a funcd process holds while idle: its listening socket and its audit log. */
export const FDS_PER_MINION = 2;
/**
 * Descriptors a funcd process needs besides its minions': Node's own (~20), the connections of one call at
 * the default concurrency (200, a sub-overlord's fan-out to its leaves), and room for the job stores in use.
 */
export const FDS_PER_PROCESS = 400;

/** The soft limit on open files of this process (inherited by what it spawns), or null where /proc has none. */
export function openFilesLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return null;
  return m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Refuses a funcd process of `minions` minions that would run out of descriptors under `limit`. */
export function checkOpenFiles(minions: number, limit: number | null = openFilesLimit()): void {
  if (limit === null) return;
  const need = minions * FDS_PER_MINION + FDS_PER_PROCESS;
  if (need > limit) {
    throw new FuncError(
      "UsageError",
      `a funcd process serving ${minions} minions needs about ${need} open files, but the limit is ${limit}: raise it (ulimit -n ${need}) or use a smaller --per-process`,
    );
  }
}
