// `func <spec> call|ping|list_minions`: resolve targets, fan out, print each host, and return the exit
// code the outcomes add up to (DESIGN section 7).

import { EXIT, exitCodeFor, summarize, type HostResult } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { foldNames } from "./fold.js";
import { formatHost, formatSummary, resultLines, toJson } from "./render.js";

export interface OutputOptions {
  json: boolean;
  jsonl: boolean;
  color: boolean;
  /** stderr is a terminal: show progress on long runs */
  progress: boolean;
  /** print hosts with identical results once, under a folded node set */
  fold?: boolean;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Below this many hosts, no progress line is drawn. */
const PROGRESS_MIN_HOSTS = 20;

export function listMinions(spec: string, opts: OverlordOptions, io: Io): number {
  const overlord = new Overlord(spec, opts);
  for (const host of overlord.hosts()) io.out(`${host}\n`);
  return EXIT.OK;
}

/** Prints results as they stream in (--jsonl) or sorted at the end; returns the exit code. */
export async function printResults(
  stream: AsyncIterable<{ host: string; result: HostResult }>,
  total: number,
  out: OutputOptions,
  io: Io,
  job: string | null = null,
): Promise<number> {
  const started = performance.now();
  const results: Record<string, HostResult> = {};
  let done = 0;
  const showProgress = out.progress && !out.jsonl && total >= PROGRESS_MIN_HOSTS;
  for await (const { host, result } of stream) {
    results[host] = result;
    done += 1;
    if (out.jsonl) io.out(toJson({ host, ...result }) + "\n");
    if (showProgress) io.err(`\r${done}/${total} hosts done`);
  }
  if (showProgress) io.err("\r\x1b[K");
  const hosts = Object.keys(results).sort();
  const summary = summarize(hosts.map((h) => results[h]!.outcome));
  if (out.json) {
    const sorted = Object.fromEntries(hosts.map((h) => [h, results[h]]));
    io.out(toJson({ job, hosts: sorted, summary }, 2) + "\n");
  } else if (out.jsonl) {
    io.out(toJson({ summary, job }) + "\n");
  } else if (out.fold) {
    for (const [label, result] of foldResults(hosts, results)) io.out(formatHost(label, result, label.length, out.color) + "\n");
  } else {
    const width = Math.max(...hosts.map((h) => h.length), 4);
    // one write: a thousand small ones are a thousand system calls on a pipe
    io.out(hosts.map((h) => formatHost(h, results[h]!, width, out.color) + "\n").join(""));
  }
  io.err(formatSummary(summary, performance.now() - started) + "\n");
  return exitCodeFor(hosts.map((h) => results[h]!.outcome));
}

/** After a filtered call: how many hosts matched of how many asked (and whose facts could not be read). */
export function printSelection(overlord: Overlord, io: Io): void {
  const s = overlord.selection;
  if (s) io.err(`filter: ${s.matched} matched of ${s.asked} asked${s.unknown ? `, ${s.unknown} with unreadable facts (reported above)` : ""}\n`);
}

/** Groups hosts whose outcome and printed lines are identical; the largest group first. */
export function foldResults(hosts: readonly string[], results: Record<string, HostResult>): [string, HostResult][] {
  const groups = new Map<string, { hosts: string[]; result: HostResult }>();
  for (const h of hosts) {
    const r = results[h]!;
    const key = `${r.outcome}\0${resultLines(r).join("\n")}`;
    const g = groups.get(key) ?? { hosts: [], result: r };
    g.hosts.push(h);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.hosts.length - a.hosts.length)
    .map((g) => [`${foldNames(g.hosts)} (${g.hosts.length})`, g.result]);
}

export async function callCommand(
  spec: string,
  module: string,
  method: string,
  args: unknown[],
  opts: OverlordOptions,
  out: OutputOptions,
  io: Io,
): Promise<number> {
  // one call per host and exit: connections close after their answer instead of being kept alive
  const overlord = new Overlord(spec, { ...opts, keepAlive: false });
  try {
    const total = overlord.hosts().length;
    const code = await printResults(overlord.stream(module, method, args), total, out, io);
    printSelection(overlord, io);
    return code;
  } finally {
    await overlord.close();
  }
}
