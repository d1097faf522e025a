// The soak's leak criterion (issue 10): the trend of funcd's resident memory at its troughs. Each window's
// lowest RSS sample stands for the heap just after a collection; the Theil-Sen slope (the median of all
// pairwise slopes) through those troughs ignores a load spike or a late collection, which a first-vs-last
// peak comparison cannot. Pure: it takes samples, returns the growth the trend projects over the run.

export interface RssSample {
  /** ms since sampling started */
  t: number;
  kib: number;
}

export interface LeakTrend {
  /** the trough of each window, in time order */
  troughs: RssSample[];
  /** KiB per minute, from the Theil-Sen slope through the troughs */
  slopeKibPerMin: number;
  /** the median trough: the level growth is measured against */
  baselineKib: number;
  /** growth the trend projects over the whole sampled span, as a fraction of the baseline */
  growth: number;
}

/** Windows a run is cut into: enough troughs for a robust slope, each window long enough to hold a collection. */
export const LEAK_WINDOWS = 10;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The trend of `samples` (one process) over `windows` equal windows of the sampled span. */
export function leakTrend(samples: readonly RssSample[], windows = LEAK_WINDOWS): LeakTrend {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const start = sorted[0]?.t ?? 0;
  const span = (sorted.at(-1)?.t ?? 0) - start;
  const troughs: RssSample[] = [];
  for (let w = 0; w < windows && span > 0; w++) {
    const from = start + (span * w) / windows;
    const to = start + (span * (w + 1)) / windows;
    const inside = sorted.filter((s) => s.t >= from && (w === windows - 1 ? s.t <= to : s.t < to));
    if (inside.length === 0) continue;
    troughs.push(inside.reduce((lo, s) => (s.kib < lo.kib ? s : lo)));
  }
  const slopes: number[] = [];
  for (let i = 0; i < troughs.length; i++) {
    for (let j = i + 1; j < troughs.length; j++) {
      const dt = troughs[j]!.t - troughs[i]!.t;
      if (dt > 0) slopes.push((troughs[j]!.kib - troughs[i]!.kib) / dt);
    }
  }
  const slopePerMs = median(slopes);
  const baselineKib = median(troughs.map((s) => s.kib));
  return {
    troughs,
    slopeKibPerMin: slopePerMs * 60_000,
    baselineKib,
    growth: baselineKib > 0 ? (slopePerMs * span) / baselineKib : 0,
  };
}
