// What a campaign case is and what it reports: one row of the table (case, tries, outcome, minion still
// up, RSS before/after) plus whether every claim held and, if not, which ones broke.

import type { Reply } from "./probe.js";

export type CaseGroup = "hostile" | "fault" | "soak" | "identity";

export interface Row {
  group: CaseGroup;
  name: string;
  tries: number;
  /** what happened, short: "fault -32700 x12", "timeout in 2.1 s" */
  outcome: string;
  /** the minion (or every minion) still answers after the case; null when not applicable */
  up: boolean | null;
  rssBeforeKib: number | null;
  rssAfterKib: number | null;
  /** highest RSS seen while the case ran */
  rssPeakKib: number | null;
  held: boolean;
  /** set when the case did not run, with the reason; such a row never counts as held */
  notRun?: string;
  /** claims that broke */
  problems: string[];
}

export function notRunRow(group: CaseGroup, name: string, reason: string): Row {
  return { group, name, tries: 0, outcome: "not run", up: null, rssBeforeKib: null, rssAfterKib: null, rssPeakKib: null, held: false, notRun: reason, problems: [] };
}

/** A short label for one reply: "ok", "fault -32700", "HTTP 413", "closed". */
export function replyLabel(r: Reply): string {
  switch (r.kind) {
    case "ok":
      return "ok";
    case "fault":
      return `fault ${r.code}`;
    case "http":
      return `HTTP ${r.status}`;
    case "closed":
      return "closed";
  }
}

/** "fault -32700 x12, HTTP 413 x1" from a list of labels, most frequent first. */
export function tally(labels: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([l, n]) => (n > 1 ? `${l} x${n}` : l))
    .join(", ");
}

/** Seconds with one decimal, for outcomes. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
