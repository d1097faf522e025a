// `--stats`: per-host latency percentiles and the slowest hosts of a run, one line on stderr.

import type { HostResult } from "@func/shared";

/** How many of the slowest hosts `--stats` names. */
export const SLOWEST = 5;

/** The p-th percentile (nearest rank) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (n: number) => `${Math.round(n)}ms`;

/** `latency p50 12ms p95 40ms p99 81ms (12 hosts); slowest: web03 120ms, web07 95ms, ...` */
export function formatStats(results: Readonly<Record<string, HostResult>>): string {
  const timed = Object.entries(results).filter(([, r]) => typeof r.ms === "number") as [string, HostResult & { ms: number }][];
  if (timed.length === 0) return "latency: no host was timed";
  const sorted = timed.map(([, r]) => r.ms).sort((a, b) => a - b);
  const slowest = [...timed].sort((a, b) => b[1].ms - a[1].ms || (a[0] < b[0] ? -1 : 1)).slice(0, SLOWEST);
  return (
    `latency p50 ${ms(percentile(sorted, 50))} p95 ${ms(percentile(sorted, 95))} p99 ${ms(percentile(sorted, 99))} (${timed.length} hosts); ` +
    `slowest: ${slowest.map(([h, r]) => `${h} ${ms(r.ms)}`).join(", ")}`
  );
}
