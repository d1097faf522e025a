// `func <spec> call|ping|list_minions`: resolve targets, fan out (all at once, a random subset, or in rolling
// batches), print each host through the format's renderer, and return the exit code the outcomes add up to
// (DESIGN section 7).

import { setTimeout as sleep } from "node:timers/promises";
import { EXIT, FuncError, commandFailed, exitCodeForResults, failure, foldNames, summarize, type HostResult } from "@func/shared";
import { Overlord, type HostEvent, type OverlordOptions } from "../call/overlord.js";
import { renderer, type Format } from "./formats.js";
import { formatSummary, toJson } from "./render.js";
import { formatStats } from "./stats.js";

export interface OutputOptions {
  format: Format;
  color: boolean;
  /** stderr is a terminal: a progress line (done/total, failures, elapsed) */
  progress: boolean;
  /** stdout is a terminal: hosts print as they finish instead of sorted at the end */
  live: boolean;
  /** `-N`: no host label */
  noLabel: boolean;
  /** `--stats`: latency percentiles and the slowest hosts on stderr */
  stats: boolean;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Which of the matched hosts run, and when (Salt's --subset, --batch, --batch-wait, --failhard). */
export interface RunPlan {
  /** a random N of the matched hosts */
  subset?: number;
  /** hosts per batch, or a percentage of the matched hosts ("25%") */
  batch?: string;
  /** seconds between batches */
  batchWaitS?: number;
  /** after a batch with a failure, start no more: the rest end `skipped` */
  failhard?: boolean;
}

/** Least time between two progress lines: a thousand hosts finishing are not a thousand redraws. */
const PROGRESS_EVERY_MS = 100;

/** `func <spec> list_minions` and `--list-targets`: what the spec matches, from the certs alone (no network). */
export function listMinions(spec: string, opts: OverlordOptions, out: Pick<OutputOptions, "format">, io: Io): number {
  const overlord = new Overlord(spec, opts);
  const hosts = overlord.hosts();
  if (out.format === "json") io.out(toJson({ hosts }, 2) + "\n");
  else if (out.format === "fold") io.out(`${foldNames(hosts)} (${hosts.length})\n`);
  else io.out(hosts.map((h) => `${h}\n`).join(""));
  return EXIT.OK;
}

/** Prints results through the format's renderer as they stream in; returns the exit code. */
export async function printResults(
  stream: AsyncIterable<{ host: string; result: HostResult }>,
  targets: number | readonly string[],
  out: OutputOptions,
  io: Io,
  job: string | null = null,
): Promise<number> {
  const started = performance.now();
  const total = typeof targets === "number" ? targets : targets.length;
  const live = out.live && (out.format === "table" || out.format === "txt" || out.format === "oneline");
  const render = renderer(out.format, { color: out.color, noLabel: out.noLabel, live, hosts: typeof targets === "number" ? [] : targets });
  const results: Record<string, HostResult> = {};
  let done = 0;
  let failed = 0;
  let drawn = 0;
  let shown = false;
  const progress = (force: boolean) => {
    const now = performance.now();
    if (!out.progress || (!force && now - drawn < PROGRESS_EVERY_MS)) return;
    drawn = now;
    shown = true;
    io.err(`\r\x1b[K${done}/${total} done, ${failed} failed, ${((now - started) / 1000).toFixed(1)}s`);
  };
  for await (const { host, result } of stream) {
    results[host] = result;
    done += 1;
    if (result.outcome !== "ok" || commandFailed(result)) failed += 1;
    const text = render.host(host, result);
    if (text) {
      // the progress line shares the terminal: clear it before a host's lines, draw it again after
      if (shown) io.err("\r\x1b[K");
      io.out(text);
      if (shown) progress(true);
    }
    progress(false);
  }
  if (shown) io.err("\r\x1b[K");
  const hosts = Object.keys(results).sort();
  const summary = summarize(hosts.map((h) => results[h]!.outcome));
  io.out(render.end(hosts, results, summary, job));
  const all = hosts.map((h) => results[h]!);
  io.err(formatSummary(summary, performance.now() - started, all.filter(commandFailed).length) + "\n");
  if (out.stats) io.err(formatStats(results) + "\n");
  return exitCodeForResults(all);
}

/** A random `n` of `hosts` (all of them when n >= their number), kept in name order. */
export function pickSubset(hosts: readonly string[], n: number): string[] {
  const pool = [...hosts];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n).sort();
}

/** `--batch 10` or `--batch 25%` of `total` hosts -> hosts per batch (at least 1). */
export function batchSize(spec: string, total: number): number {
  const m = /^(\d+)(%?)$/.exec(spec.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || (m[2] === "%" && n > 100)) throw new FuncError("UsageError", `--batch takes a number of hosts or a percentage (10, 25%), got "${spec}"`);
  return m[2] === "%" ? Math.max(1, Math.ceil((total * n) / 100)) : n;
}

/**
 * After a filtered call: how many hosts matched of how many asked (and whose facts could not be read). A
 * filter that leaves no host is exit bit 16, as a spec that matches none.
 */
export function printSelection(overlord: Overlord, io: Io, unreadable = "reported above"): number {
  const s = overlord.selection;
  if (!s) return EXIT.OK;
  io.err(`filter: ${s.matched} matched of ${s.asked} asked${s.unknown ? `, ${s.unknown} with unreadable facts (${unreadable})` : ""}\n`);
  return s.matched === 0 && s.unknown === 0 ? EXIT.NO_MATCH : EXIT.OK;
}

/** Rolling batches: each batch runs when the one before has finished; with failhard, a failure starts no more. */
async function* batches(hosts: readonly string[], call: (batch: readonly string[]) => AsyncIterable<HostEvent>, plan: RunPlan): AsyncGenerator<HostEvent> {
  const size = batchSize(plan.batch!, hosts.length);
  for (let start = 0; start < hosts.length; start += size) {
    if (start > 0 && plan.batchWaitS) await sleep(plan.batchWaitS * 1000);
    let failed = false;
    for await (const event of call(hosts.slice(start, start + size))) {
      if (event.result.outcome !== "ok" || commandFailed(event.result)) failed = true;
      yield event;
    }
    if (failed && plan.failhard) {
      const next = start + size + 1;
      for (const host of hosts.slice(start + size)) {
        yield { host, result: failure("skipped", "Skipped", `never started: --failhard stopped after a failure in the batch before (hosts ${next}-${hosts.length} of ${hosts.length})`) };
      }
      return;
    }
  }
}

export async function callCommand(
  spec: string,
  module: string,
  method: string,
  args: unknown[],
  opts: OverlordOptions,
  out: OutputOptions,
  io: Io,
  plan: RunPlan = {},
): Promise<number> {
  // one call per host and exit: connections close after their answer instead of being kept alive
  const overlord = new Overlord(spec, { ...opts, keepAlive: false });
  try {
    const matched = overlord.hosts();
    const hosts = plan.subset !== undefined ? pickSubset(matched, plan.subset) : matched;
    if (plan.subset !== undefined) io.err(`subset: ${hosts.length} of ${matched.length} matched hosts: ${foldNames(hosts)}\n`);
    const code = await runAndRecord(overlord, hosts, module, method, args, out, io, plan);
    return code | printSelection(overlord, io);
  } finally {
    await overlord.close();
  }
}

/** Yields what `stream` yields, keeping each host's result in `into`. */
async function* keeping(stream: AsyncIterable<HostEvent>, into: Record<string, HostResult>): AsyncGenerator<HostEvent> {
  for await (const event of stream) {
    into[event.host] = event.result;
    yield event;
  }
}

/**
 * Runs the method on `hosts` (in batches when the plan says so), prints the results, and records the run in the
 * job store (so `func job rerun` can run a subset of it again). A store that cannot record it is said on stderr;
 * the run's exit code stands.
 */
export async function runAndRecord(
  overlord: Overlord,
  hosts: readonly string[],
  module: string,
  method: string,
  args: unknown[],
  out: OutputOptions,
  io: Io,
  plan: RunPlan = {},
): Promise<number> {
  const call = (some: readonly string[]) => overlord.stream(module, method, args, some);
  const results: Record<string, HostResult> = {};
  const code = await printResults(keeping(plan.batch !== undefined ? batches(hosts, call, plan) : call(hosts), results), hosts, out, io);
  try {
    overlord.recordRun(module, method, args, results);
  } catch (err) {
    io.err(`func: the run was not recorded in the job store: ${(err as Error).message}\n`);
  }
  return code;
}
