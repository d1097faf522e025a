// The soak (issue 6): mixed calls against a fleet at a bounded rate for a set time, through the Overlord
// API (in-process and forked buckets). Every call must give each host exactly one correct result; the trend
// of funcd's RSS troughs must not project 10% growth over the measured run (leak-trend.ts), its descriptors
// must not grow, and nothing may leave zombies.

import { setTimeout as sleep } from "node:timers/promises";
import { Overlord } from "@func/overlord";
import type { HostResult } from "@func/shared";
import type { CampaignFleet } from "./campaign-fleet.js";
import { secs, type Row } from "./case.js";
import { alive, fdCount, rssKib, settle, zombies } from "./observe.js";
import { leakTrend } from "./leak-trend.js";

/**
 * Most funcd RSS may grow over the soak, as a fraction: the growth the Theil-Sen trend of its RSS troughs
 * (each window's lowest sample, the heap after a collection) projects over the measured run. A load spike
 * or a late collection moves one trough, not the median slope: the old first-vs-last-peak rule failed a
 * loaded run at +11.2% with no leak behind it.
 */
export const SOAK_RSS_GROWTH_MAX = 0.1;
/**
 * The bound for the short soak (npm test, --quick): in its first minute V8 is still growing its heap toward
 * its working size (funcd's anonymous RSS climbs for about a minute under steady load, then stays flat for
 * the next ten), so a 15 s run can only catch gross leaks; the 10% claim is the full campaign's.
 */
export const SHORT_SOAK_RSS_GROWTH_MAX = 0.25;
/** How often RSS is sampled during the soak, ms. */
const RSS_SAMPLE_MS = 500;
/** Most operations in flight at once: the rate is bounded even when the fleet slows down. */
const MAX_IN_FLIGHT = 4;
/**
 * The warm-up runs the same mix this many times faster (and with as many more in flight), so funcd's heap
 * reaches its working size before the measured run: otherwise a short soak mostly measures V8 growing into it.
 */
const WARMUP_SPEEDUP = 4;
/** The warm-up goes on in slices of this length until funcd's RSS stops growing (or warmupMaxMs), ms. */
const WARMUP_SLICE_MS = 3000;
/** Growth from one warm-up slice's RSS peak to the next below which funcd counts as warmed up. */
const WARMED_UP_GROWTH = 0.02;

export interface SoakOptions {
  fleet: CampaignFleet;
  /** measured part of the soak, ms */
  durationMs: number;
  /** warm-up before the baseline is taken, ms (the same mix, faster, not measured) */
  warmupMs: number;
  /** the warm-up goes on, up to this long, while funcd's RSS still grows (default: warmupMs) */
  warmupMaxMs?: number;
  /** most RSS growth allowed, as a fraction (default SOAK_RSS_GROWTH_MAX) */
  rssGrowthMax?: number;
  /** operations started per second; each goes to every minion */
  ratePerS: number;
  /** async operations to mix in, and what to check once they are all done; null when async jobs are not available (the row says so) */
  asyncOps?: { ops: readonly SoakOp[]; finalCheck(fleet: CampaignFleet): Promise<string[]> } | null;
  log?: (line: string) => void;
}

/** One kind of operation: a call to every minion, and the check of one host's value. */
export interface SoakOp {
  name: string;
  forks: number;
  /** every host result as reported, in order: a host reported twice appears twice */
  run(o: Overlord, seq: number): Promise<[string, HostResult][]>;
  check(value: unknown, seq: number): boolean;
}

/**
 * Outcomes that say the load was too much for the machine (a TLS handshake or an answer that did not come in
 * time), not that a minion misbehaved: counted and shown, not failed, as long as every funcd stays up. A wrong
 * value, an `error` answer to a valid call, a missing or a doubled result always fails the soak.
 */
const LOAD_OUTCOMES: ReadonlySet<string> = new Set(["unreachable", "timeout"]);

interface Tallies {
  ops: number;
  results: number;
  /** host results by outcome */
  outcomes: Map<string, number>;
  /** ok with a wrong value, or an outcome that means a minion misbehaved */
  wrong: number;
  missing: number;
  doubled: number;
  skipped: number;
  failures: string[];
}

export const SYNC_SOAK_OPS: readonly SoakOp[] = [
  { name: "ping", forks: 1, run: async (o) => Object.entries(await o.call("test", "ping")), check: (v) => v === 1 },
  {
    name: "echo",
    forks: 1,
    run: async (o, seq) => Object.entries(await o.call("test", "echo", [{ seq, text: `soak ${seq} é\u001b[0m`, list: [seq, seq / 2, true, null] }])),
    check: (v, seq) => {
      const s = v as { seq?: unknown; list?: unknown[]; text?: unknown } | null;
      return s?.seq === seq && s.list?.[0] === seq && s.text === `soak ${seq} é\u001b[0m`;
    },
  },
  {
    name: "command",
    forks: 1,
    run: async (o, seq) => Object.entries(await o.call("command", "run", [`echo soak-${seq}`])),
    check: (v, seq) => (v as { rc?: unknown; stdout?: unknown } | null)?.rc === 0 && (v as { stdout?: unknown }).stdout === `soak-${seq}\n`,
  },
  { name: "add (2 forks)", forks: 2, run: async (o, seq) => Object.entries(await o.call("test", "add", [seq, 1])), check: (v, seq) => v === seq + 1 },
];

function funcdPids(fleet: CampaignFleet): number[] {
  return fleet.pidsOf(fleet.minions.map((_, i) => i));
}

/** File descriptors of each funcd, taken with no connection of ours open (they are closed and given time to go). */
async function measureFds(fleet: CampaignFleet, settleTo: Map<number, number> | null): Promise<Map<number, number>> {
  const fds = new Map<number, number>();
  for (const pid of funcdPids(fleet)) {
    const f = settleTo ? await settle(() => fdCount(pid), settleTo.get(pid) ?? 0, 10_000) : fdCount(pid);
    fds.set(pid, f ?? 0);
  }
  return fds;
}

/** RSS samples of each funcd over time, KiB, with their time (ms since the sampler started). */
function sampleRss(pids: readonly number[]): { stop(): Map<number, { t: number; kib: number }[]> } {
  const samples = new Map(pids.map((p) => [p, [] as { t: number; kib: number }[]]));
  const started = performance.now();
  const take = () => {
    for (const p of pids) {
      const kib = rssKib(p);
      if (kib !== null) samples.get(p)!.push({ t: performance.now() - started, kib });
    }
  };
  take();
  const timer = setInterval(take, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

function maxIn(samples: readonly { t: number; kib: number }[], from: number, to: number): number {
  return samples.filter((s) => s.t >= from && s.t <= to).reduce((m, s) => Math.max(m, s.kib), 0);
}

async function runPhase(
  fleet: CampaignFleet,
  ops: readonly SoakOp[],
  untilMs: number,
  ratePerS: number,
  maxInFlight: number,
  t: Tallies,
  seqStart: number,
): Promise<number> {
  const names = fleet.minions.map((m) => m.name).sort();
  const overlords = new Map<number, Overlord>();
  const overlordFor = (forks: number) => {
    let o = overlords.get(forks);
    if (!o) overlords.set(forks, (o = new Overlord("*", { home: fleet.home, forks, timeout: 30 })));
    return o;
  };
  let seq = seqStart;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const interval = 1000 / ratePerS;
  let nextAt = performance.now();
  while (performance.now() < untilMs) {
    if (inFlight >= maxInFlight) t.skipped++;
    else {
      const op = ops[seq % ops.length]!;
      const mySeq = seq++;
      inFlight++;
      const p = op
        .run(overlordFor(op.forks), mySeq)
        .then((results) => {
          t.ops++;
          const got = results.map(([host]) => host);
          const missing = names.filter((n) => !got.includes(n));
          t.missing += missing.length;
          t.doubled += got.length - new Set(got).size + got.filter((n) => !names.includes(n)).length;
          for (const [host, r] of results) {
            t.results++;
            t.outcomes.set(r.outcome, (t.outcomes.get(r.outcome) ?? 0) + 1);
            if (LOAD_OUTCOMES.has(r.outcome)) continue;
            if (r.outcome !== "ok" || !op.check(r.value, mySeq)) {
              t.wrong++;
              if (t.failures.length < 5) t.failures.push(`${op.name} #${mySeq} on ${host}: ${JSON.stringify(r).slice(0, 160)}`);
            }
          }
        })
        .catch((err: unknown) => {
          t.wrong += names.length;
          if (t.failures.length < 5) t.failures.push(`${op.name} #${mySeq} threw: ${(err as Error).message}`);
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    nextAt += interval;
    await sleep(Math.max(0, nextAt - performance.now()));
  }
  await Promise.all(pending);
  for (const o of overlords.values()) await o.close();
  return seq;
}

export async function runSoak(opts: SoakOptions): Promise<Row> {
  const { fleet } = opts;
  const ops = [...SYNC_SOAK_OPS, ...(opts.asyncOps?.ops ?? [])];
  const t: Tallies = { ops: 0, results: 0, outcomes: new Map(), wrong: 0, missing: 0, doubled: 0, skipped: 0, failures: [] };
  const problems: string[] = [];
  const idleFds = await measureFds(fleet, null);

  opts.log?.(`soak: warm-up ${secs(opts.warmupMs)}${opts.warmupMaxMs ? ` to ${secs(opts.warmupMaxMs)}` : ""} at ${opts.ratePerS * WARMUP_SPEEDUP} calls/s against ${fleet.minions.length} minions`);
  const warm: Tallies = { ...t, outcomes: new Map(), failures: [] };
  const warmPids = funcdPids(fleet);
  const warmStarted = performance.now();
  const warmMax = Math.max(opts.warmupMs, opts.warmupMaxMs ?? 0);
  let seq = 0;
  let lastPeaks: Map<number, number> | null = null;
  while (performance.now() - warmStarted < warmMax) {
    const sampler = sampleRss(warmPids);
    seq = await runPhase(fleet, ops, performance.now() + WARMUP_SLICE_MS, opts.ratePerS * WARMUP_SPEEDUP, MAX_IN_FLIGHT * WARMUP_SPEEDUP, warm, seq);
    const samples = sampler.stop();
    const peaks = new Map(warmPids.map((p) => [p, maxIn(samples.get(p) ?? [], 0, Infinity)]));
    const prev = lastPeaks;
    const settled = prev !== null && warmPids.every((p) => (peaks.get(p)! - prev.get(p)!) / prev.get(p)! < WARMED_UP_GROWTH);
    lastPeaks = peaks;
    if (settled && performance.now() - warmStarted >= opts.warmupMs) break;
  }
  opts.log?.(`soak: warmed up in ${secs(performance.now() - warmStarted)}`);
  // results during warm-up must be right too; only its skipped ticks (at the higher rate) are left out
  for (const [o, n] of warm.outcomes) t.outcomes.set(o, (t.outcomes.get(o) ?? 0) + n);
  t.ops += warm.ops;
  t.results += warm.results;
  t.wrong += warm.wrong;
  t.missing += warm.missing;
  t.doubled += warm.doubled;
  t.failures.push(...warm.failures);
  const baseFds = await measureFds(fleet, idleFds);
  opts.log?.(`soak: measured run of ${secs(opts.durationMs)} at ${opts.ratePerS} calls/s x ${fleet.minions.length} minions`);
  const pids = funcdPids(fleet);
  const sampler = sampleRss(pids);
  await runPhase(fleet, ops, performance.now() + opts.durationMs, opts.ratePerS, MAX_IN_FLIGHT, t, seq);
  const samples = sampler.stop();
  const endFds = await measureFds(fleet, baseFds);

  const rssMax = opts.rssGrowthMax ?? SOAK_RSS_GROWTH_MAX;
  const firstPeak = new Map<number, number>();
  const lastPeak = new Map<number, number>();
  let worstGrowth = -Infinity;
  let worstSlope = 0;
  for (const pid of pids) {
    const trend = leakTrend(samples.get(pid) ?? []);
    firstPeak.set(pid, trend.troughs[0]?.kib ?? 0);
    lastPeak.set(pid, trend.troughs.at(-1)?.kib ?? 0);
    if (trend.growth > worstGrowth) {
      worstGrowth = trend.growth;
      worstSlope = trend.slopeKibPerMin;
    }
    if (trend.growth >= rssMax) {
      problems.push(
        `funcd ${pid} RSS troughs climb ${trend.slopeKibPerMin.toFixed(0)} KiB/min: ${(trend.growth * 100).toFixed(1)}% over the run from ${Math.round(trend.baselineKib)} KiB (bound ${rssMax * 100}%)`,
      );
    }
    const fdGrowth = (endFds.get(pid) ?? 0) - (baseFds.get(pid) ?? 0);
    if (fdGrowth > 0) problems.push(`funcd ${pid} holds ${fdGrowth} more file descriptors`);
    const z = zombies(pid);
    if (z) problems.push(`funcd ${pid} has ${z} zombie children`);
  }
  const mine = await settle(() => zombies(process.pid), 0, 3000);
  if (mine) problems.push(`the soak process has ${mine} zombie children`);
  if (t.missing) problems.push(`${t.missing} host results missing`);
  if (t.doubled) problems.push(`${t.doubled} host results doubled or for hosts not targeted`);
  if (t.wrong) problems.push(`${t.wrong} host results wrong or failed by a minion: ${t.failures.join("; ")}`);
  let up = true;
  for (const pid of pids) {
    if (!alive(pid)) problems.push(`funcd ${pid} died during the soak`);
  }
  for (let i = 0; i < fleet.minions.length; i++) {
    if (!(await fleet.answers(i, 15_000))) {
      up = false;
      problems.push(`${fleet.minion(i).name} does not answer after the soak`);
    }
  }
  if (t.ops === 0) problems.push("no operation completed");
  if (opts.asyncOps) problems.push(...(await opts.asyncOps.finalCheck(fleet)));

  const sum = (m: Map<number, number>) => pids.reduce((a, p) => a + (m.get(p) ?? 0), 0);
  const asyncNote = opts.asyncOps ? "" : " (sync only: async not on main yet)";
  return {
    group: "soak",
    name: `soak ${secs(opts.durationMs)}, ${fleet.minions.length} minions${asyncNote}`,
    tries: t.ops,
    outcome: `${t.results} host results (${[...t.outcomes].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} x${n}`).join(", ")}), ${t.wrong} wrong, ${t.missing} missing, ${t.doubled} doubled; RSS trough trend ${worstGrowth >= 0 ? "+" : ""}${(worstGrowth * 100).toFixed(1)}% (${worstSlope.toFixed(0)} KiB/min) worst of ${pids.length} funcd (bound ${rssMax * 100}%); fds ${sum(baseFds)} -> ${sum(endFds)}; ${t.skipped} ticks skipped at the in-flight cap`,
    up,
    rssBeforeKib: Math.round(sum(firstPeak) / pids.length),
    rssAfterKib: Math.round(sum(lastPeak) / pids.length),
    rssPeakKib: null,
    held: problems.length === 0,
    problems,
  };
}
