// `func job status|wait|list|purge` and `func <spec> call --async [--nopoll]`: async jobs from the command
// line. Results print as sync calls do (printResults); the job's progress goes to stderr.

import { EXIT, FuncError, commandFailed, exitCodeForResults, failure, parseDuration, type HostResult } from "@func/shared";
import type { JobHost, JobStatus } from "../jobs/job-engine.js";
import { EventQueue } from "../call/event-queue.js";
import { Overlord, type HostEvent, type OverlordOptions } from "../call/overlord.js";
import { printResults, printSelection, runAndRecord, type Io, type OutputOptions } from "./call.js";
import { formatHost, formatOpenHost, toJson } from "./render.js";

/** Default `func job list --limit`. */
export const LIST_LIMIT = 50;

/** `func <spec> call --async`: prints the job id, then (unless `nopoll`) each host as it finishes. */
export async function asyncCallCommand(
  spec: string,
  module: string,
  method: string,
  args: unknown[],
  opts: OverlordOptions,
  out: OutputOptions,
  io: Io,
  nopoll: boolean,
): Promise<number> {
  const overlord = new Overlord(spec, opts);
  try {
    const id = await overlord.callAsync(module, method, args);
    const s = overlord.selection;
    printSelection(overlord, io, "final in the job");
    // with a fact filter, the job's hosts are the matching ones and those whose facts could not be read
    const total = s ? s.matched + s.unknown : overlord.hosts().length;
    if (nopoll) {
      io.out(`${id}\n`);
      return EXIT.OK;
    }
    io.err(`job ${id} started on ${total} host${total === 1 ? "" : "s"}\n`);
    return await followJob(overlord, id, total, undefined, out, io);
  } finally {
    await overlord.close();
  }
}

/** `func job wait <id> [--timeout S]`: prints each host as it finishes; hosts still open at the timeout count as `timeout`. */
export async function jobWaitCommand(id: string, timeoutS: number | undefined, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const overlord = new Overlord("*", opts);
  try {
    const first = await overlord.jobStatus(id, { poll: false });
    return await followJob(overlord, id, first.total, timeoutS === undefined ? undefined : timeoutS * 1000, out, io);
  } finally {
    await overlord.close();
  }
}

async function followJob(overlord: Overlord, id: string, total: number, timeoutMs: number | undefined, out: OutputOptions, io: Io): Promise<number> {
  const queue = new EventQueue<HostEvent>();
  let shown = -1;
  const progress = (st: JobStatus) => {
    if (st.done === shown || out.format === "jsonl") return;
    shown = st.done;
    io.err(out.progress ? `\r${st.done}/${st.total} hosts done` : `${st.done}/${st.total} hosts done\n`);
  };
  const work = overlord
    .waitJob(id, {
      onHost: (host, result) => queue.push({ host, result }),
      onStatus: progress,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    })
    .then((st) => {
      if (out.progress && out.format !== "jsonl") io.err("\r\x1b[K");
      for (const [host, h] of Object.entries(st.hosts)) if (!h.final) queue.push({ host, result: stillOpen(id, h) });
    });
  queue.endWith(work);
  return printResults(queue, total, { ...out, progress: false }, io, id);
}

/** A host still open when a wait ended: reported as `timeout` (exit bit 8), saying where to look later. */
function stillOpen(id: string, h: JobHost): HostResult {
  const where = h.minionJobId ? `minion job ${h.minionJobId}` : "not dispatched yet";
  return failure("timeout", "StillRunning", `still open when the wait ended (${where}); see: func job status ${id}`);
}

/** `func job status <id>` (and Func's `call --jobstatus <id>`): asks the open hosts once and prints every host. */
export async function jobStatusCommand(id: string, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const overlord = new Overlord("*", opts);
  try {
    const st = await overlord.jobStatus(id);
    const names = Object.keys(st.hosts);
    if (out.format === "json") {
      const { id: job, hosts, summary, ...rest } = st;
      io.out(toJson({ job, ...rest, hosts, summary }, 2) + "\n");
    } else if (out.format === "jsonl") {
      for (const host of names) io.out(toJson({ host, ...st.hosts[host] }) + "\n");
      io.out(toJson({ summary: st.summary, job: st.id, status: st.status }) + "\n");
    } else {
      const width = Math.max(...names.map((h) => h.length), 4);
      for (const host of names) {
        const h = st.hosts[host]!;
        if (h.outcome === "running") io.out(formatOpenHost(host, h.minionJobId ? `minion job ${h.minionJobId}` : "not dispatched yet", width, out.color) + "\n");
        else io.out(formatHost(host, h, width, out.color) + (h.final ? "" : "  (still open)") + "\n");
      }
    }
    const counts = Object.entries(st.summary).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`);
    io.err(`job ${st.id} ${st.status}: ${st.done}/${st.total} hosts done (${counts.join(", ")})\n`);
    return exitCodeForResults(Object.values(st.hosts).flatMap((h) => (h.outcome === "running" ? [] : [h as HostResult])));
  } finally {
    await overlord.close();
  }
}

/** `func job list [--limit N]`: newest first, from the store only. */
export async function jobListCommand(limit: number, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const overlord = new Overlord("*", opts);
  try {
    const jobs = await overlord.listJobs({ limit });
    if (out.format === "json") {
      io.out(toJson({ jobs }, 2) + "\n");
    } else if (out.format === "jsonl") {
      for (const j of jobs) io.out(toJson(j) + "\n");
    } else {
      for (const j of jobs) {
        const bad = Object.entries(j.summary).filter(([o, n]) => o !== "ok" && n > 0).map(([o, n]) => `${n} ${o}`);
        const counts = `${j.done}/${j.total}${bad.length ? ` (${bad.join(", ")})` : ""}`;
        io.out(`${j.id}  ${j.status.padEnd(8)}  ${j.created.slice(0, 19)}Z  ${counts.padEnd(9)}  ${j.module}.${j.method}  ${j.spec}\n`);
      }
    }
    return EXIT.OK;
  } finally {
    await overlord.close();
  }
}

/** `func job purge [--older-than 7d]`: deletes finished jobs older than that (default: job_retention). */
export async function jobPurgeCommand(olderThan: string | undefined, opts: OverlordOptions, io: Io): Promise<number> {
  const overlord = new Overlord("*", opts);
  try {
    const n = await overlord.purgeJobs(olderThan === undefined ? undefined : parseDuration(olderThan));
    io.out(`purged ${n} job${n === 1 ? "" : "s"}\n`);
    return EXIT.OK;
  } finally {
    await overlord.close();
  }
}

/** Which hosts of a recorded run `func job rerun --only` takes. */
export const RERUN_SUBSETS = ["failed", "unreachable", "ok"] as const;
export type RerunSubset = (typeof RERUN_SUBSETS)[number];

function inSubset(result: HostResult, only: RerunSubset): boolean {
  if (only === "unreachable") return result.outcome === "unreachable";
  const failed = result.outcome !== "ok" || commandFailed(result);
  return only === "failed" ? failed : !failed;
}

/**
 * `func job rerun <id|last> [--only failed|unreachable|ok]`: the same method with the same arguments on the
 * hosts of a recorded run (sync or async) that ended that way; the rerun is recorded too.
 */
export async function jobRerunCommand(idOrLast: string, only: RerunSubset, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const lookup = new Overlord("*", opts);
  let st: JobStatus;
  try {
    let id = idOrLast;
    if (idOrLast === "last") {
      const [newest] = await lookup.listJobs({ limit: 1 });
      if (!newest) throw new FuncError("NotFound", `no job to rerun: ${lookup.paths.jobsDir} holds no jobs yet`);
      id = newest.id;
    }
    st = await lookup.jobStatus(id, { poll: false });
  } finally {
    await lookup.close();
  }
  if (st.status !== "FINISHED") throw new FuncError("UsageError", `job ${st.id} is ${st.status}: rerun it when it has finished (func job wait ${st.id})`);
  const chosen = Object.entries(st.hosts)
    .filter(([, h]) => h.outcome !== "running" && inSubset(h as HostResult, only))
    .map(([host]) => host)
    .sort();
  if (chosen.length === 0) {
    io.err(`job ${st.id}: no host ended ${only}; nothing to rerun\n`);
    return EXIT.OK;
  }
  const overlord = new Overlord(st.spec, { ...opts, keepAlive: false });
  try {
    // hosts revoked since then are no longer in the universe: said, not dialled
    const known = new Set(overlord.hosts());
    const gone = chosen.filter((h) => !known.has(h));
    if (gone.length) io.err(`func: ${gone.length} host(s) of job ${st.id} are no longer enrolled, left out: ${gone.join(", ")}\n`);
    const hosts = chosen.filter((h) => known.has(h));
    io.err(`rerun of job ${st.id} (${st.module}.${st.method}) on the ${hosts.length} ${only} host${hosts.length === 1 ? "" : "s"}\n`);
    if (hosts.length === 0) return EXIT.OK;
    return await runAndRecord(overlord, hosts, st.module, st.method, st.args, out, io);
  } finally {
    await overlord.close();
  }
}
