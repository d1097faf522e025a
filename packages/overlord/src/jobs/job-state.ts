// What an overlord async job is made of (DESIGN section 6) and the pure rules over it: the job status
// derived from per-host states, the reading of a minion's `[code, result]` answer, and which dispatch
// failures may be retried. The job store keeps these records; async-jobs.ts drives them.

import {
  FAULT,
  JOB_STATUS,
  emptySummary,
  failure as fail,
  faultHostError,
  gotNoAnswer,
  isJobId,
  type HostError,
  type HostResult,
  type Summary,
  type WireValue,
} from "@func/shared";

/** How the dispatcher fans the job out: the caller's settings, kept so a resumed dispatch does the same. */
export interface DispatchSettings {
  forks: number;
  concurrency: number;
  timeoutMs: number;
}

/** The job record, written before anything is sent and never changed afterwards. */
export interface JobRecord {
  id: string;
  spec: string;
  module: string;
  method: string;
  args: unknown[];
  /** epoch ms */
  created: number;
  /** epoch ms: a host still unreachable after this is `lost` */
  deadline: number;
  /** the full resolved host list */
  hosts: string[];
  dispatch: DispatchSettings;
  /** leaves sent through sub-overlords: sub-overlord -> its share's leaves (DESIGN section 12) */
  routes?: Record<string, string[]>;
  /** the job was relayed for `caller` down `path` (this overlord is a sub-overlord running a share) */
  relay?: { caller: string; path: string[] };
}

/** The minion job id a delegated leaf records: its share is the job id at the sub-overlord. */
export const DELEGATED_PREFIX = "via:";

/** One host of one job, in its own key: a minion job id once dispatched, a result once final. */
export interface HostState {
  /** set once, never overwritten */
  minionJobId?: string;
  /** the final outcome; set once */
  result?: HostResult;
  /** epoch ms of the last change */
  updated: number;
}

/** The job's mutable bookkeeping, in its own key. */
export interface JobMeta {
  /** the detached dispatcher's pid (its command line carries the job id) */
  dispatcherPid?: number;
  /** every host was dispatched (by the dispatcher, or by a status call that resumed it) */
  dispatchDone?: boolean;
  /** hosts dispatched again after the dispatcher died */
  redispatched?: number;
  /** epoch ms when every host was final, with the outcome counts then */
  finished?: number;
  summary?: Summary;
}

export type JobState = "RUNNING" | "PARTIAL" | "FINISHED";

/** Func's code for each job state. */
export const JOB_STATE_CODE: Record<JobState, number> = {
  RUNNING: JOB_STATUS.RUNNING,
  PARTIAL: JOB_STATUS.PARTIAL,
  FINISHED: JOB_STATUS.FINISHED,
};

export interface DerivedState {
  status: JobState;
  /** hosts with a final outcome */
  done: number;
  /** hosts dispatched and not final */
  open: string[];
  /** hosts neither dispatched nor final */
  pending: string[];
  /** outcome counts of the final hosts */
  summary: Summary;
  /** the last change of any host, epoch ms (0 if none) */
  lastUpdate: number;
}

/** RUNNING while a host is not dispatched yet, PARTIAL while one is open, FINISHED when all are final. */
export function deriveJobState(hosts: readonly string[], states: Readonly<Record<string, HostState>>): DerivedState {
  const open: string[] = [];
  const pending: string[] = [];
  const summary = emptySummary();
  let done = 0;
  let lastUpdate = 0;
  for (const host of hosts) {
    const s = states[host];
    if (s) lastUpdate = Math.max(lastUpdate, s.updated);
    if (s?.result) {
      done += 1;
      summary[s.result.outcome] += 1;
    } else if (s?.minionJobId) open.push(host);
    else pending.push(host);
  }
  const status: JobState = pending.length > 0 ? "RUNNING" : open.length > 0 ? "PARTIAL" : "FINISHED";
  return { status, done, open, pending, summary, lastUpdate };
}

/** A minion's answer to `jobs.job_status`: a final result, or still running. */
export type StatusReply = { final: HostResult } | { running: true };

/** Reads `[code, result]` (Func's codes); anything malformed is a final `error`, never a guess. */
export function readStatusReply(value: unknown): StatusReply {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "number") {
    return { final: fail("error", "ProtocolError", `jobs.job_status answered ${describe(value)}, not [code, result]`) };
  }
  const [code, result] = value as [number, unknown];
  switch (code) {
    case JOB_STATUS.RUNNING:
      return { running: true };
    case JOB_STATUS.FINISHED:
      return { final: { outcome: "ok", value: result as WireValue } };
    case JOB_STATUS.REMOTE_ERROR: {
      const f = result as { faultCode?: unknown; faultString?: unknown } | null;
      const faultString = typeof f?.faultString === "string" ? f.faultString : describe(result);
      const faultCode = typeof f?.faultCode === "number" && Number.isInteger(f.faultCode) ? f.faultCode : FAULT.METHOD_RAISED;
      return { final: { outcome: faultCode === FAULT.ACCESS_DENIED ? "denied" : "error", error: faultHostError(faultCode, faultString) } };
    }
    case JOB_STATUS.LOST_IN_SPACE: {
      const reason = (result as { reason?: unknown } | null)?.reason;
      return { final: fail("lost", "LostInSpace", typeof reason === "string" ? reason : "the minion no longer knows this job") };
    }
    default:
      return { final: fail("error", "ProtocolError", `jobs.job_status answered an unknown code ${code}`) };
  }
}

/** What a dispatch answer means for the host: its minion job id, a final result, or try again. */
export type DispatchReading = { minionJobId: string } | { final: HostResult } | { retry: HostResult };

/**
 * Reads the answer to `async.m.f`. No answer at all (timeout, connection trouble, a dead bucket worker)
 * may be retried: the idempotency key makes a repeat return the job the minion may already have started.
 */
export function readDispatchReply(result: HostResult): DispatchReading {
  if (result.outcome === "ok") {
    return isJobId(result.value)
      ? { minionJobId: result.value }
      : { final: fail("error", "ProtocolError", `async call answered ${describe(result.value)}, not a job id`) };
  }
  if (gotNoAnswer(result)) return { retry: result };
  return { final: result };
}

/** An open host at the job deadline: `lost`, with why. */
export function lostAtDeadline(last: HostError | undefined): HostResult {
  return fail("lost", "JobDeadline", `no final answer by the job deadline${last ? ` (last: ${last.type}: ${last.message})` : ""}`);
}

function describe(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 120 ? `${s.slice(0, 120)}...` : s;
}
