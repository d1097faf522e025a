// One share of a call, carried down a tier and back (DESIGN section 12): `delegation.run` once (a repeat with
// the same id is the same share), then `delegation.poll` page after page, each page's leaves handed on as
// they come, until the sub-overlord says the share is done. Whatever goes wrong ends the leaves not heard
// from in one outcome each, by the accounting rules (accounting.ts): nothing missing, nothing doubled.

import { setTimeout as sleep } from "node:timers/promises";
import { PAGE_MAX_LINES, POLL_WAIT_MAX_MS, failure, type HostResult } from "@func/shared";
import { readPage, type Anomaly, type ShareLedger } from "./accounting.js";

/** One call to the sub-overlord: `method(params)` within `timeoutMs`, as a HostResult (never throws). */
export type SendToSub = (method: string, params: readonly unknown[], timeoutMs: number) => Promise<HostResult>;

export interface ShareCall {
  id: string;
  module: string;
  method: string;
  args: readonly unknown[];
  /** per-leaf timeout at the sub-overlord, ms */
  timeoutMs: number;
  async: boolean;
  /** the sub-overlord folds identical results into one line (default true) */
  fold?: boolean;
}

/** Between polls that failed (the sub-overlord restarting, say), ms. */
const RETRY_PAUSE_MS = 250;
/**
 * Least time between the starts of two polls of one share, ms: a page answered at once would otherwise be
 * followed by the next at once, a poll per flush of the sub-overlord (~1 ms of the top's CPU each); waiting
 * lets lines gather (and fold) into fewer, fuller pages, at the cost of this much latency.
 */
const POLL_MIN_INTERVAL_MS = 300;
/**
 * A long share polls less often: the least gap grows to a tenth of the share's age, up to this, ms. Each poll
 * costs the top ~1 ms of CPU whatever it brings, so at 300 ms a minute-long share of 10 sub-overlords cost the
 * top ~2,000 polls; the latency added stays under a tenth of the share's own time.
 */
const POLL_MAX_INTERVAL_MS = 2000;

/** The least time between two polls of a share that started `ageMs` ago. */
export function pollInterval(ageMs: number): number {
  return Math.min(POLL_MAX_INTERVAL_MS, Math.max(POLL_MIN_INTERVAL_MS, Math.round(ageMs / 10)));
}

/** How long a sync share may take before the leaves not heard from are lost: a tier below may wait a timeout of its own. */
export function shareDeadlineMs(timeoutMs: number): number {
  return timeoutMs * 2 + 5000;
}

/** The `delegation.run` parameters for a share. */
export function runParams(call: ShareCall, leaves: readonly string[]): unknown[] {
  return [call.id, call.module, call.method, [...call.args], [...leaves], { timeout_ms: Math.round(call.timeoutMs), async: call.async, fold: call.fold !== false }];
}

/** What a failed `delegation.run` means for the share's leaves, or "retry" when it may be sent again. */
function startFailure(ledger: ShareLedger, r: Exclude<HostResult, { outcome: "ok" }>): [string, HostResult][] {
  const why = `${r.error.type}: ${r.error.message}`;
  switch (r.outcome) {
    case "unreachable":
      return ledger.finish("unreachable", "SubOverlordUnreachable", `could not reach sub-overlord ${ledger.sub} (${why})`);
    case "timeout":
      return ledger.finish("lost", "SubOverlordTimeout", `sub-overlord ${ledger.sub} did not answer the share's start; it may have run (${why})`);
    case "denied":
      return ledger.finish("denied", r.error.type, `${ledger.sub} refused: ${r.error.message}`, r.error.code);
    default:
      return ledger.finish("error", r.error.type, `${ledger.sub} refused the share: ${r.error.message}`, r.error.code);
  }
}

/**
 * One page, its lines asked for as JSON text (cheap to decode); a sub-overlord from before `as_text` refuses
 * the argument (fault 4), and is asked again without it.
 */
async function poll(send: SendToSub, id: string, cursor: number, waitMs: number, timeoutMs: number): Promise<HostResult> {
  const r = await send("delegation.poll", [id, cursor, waitMs, true], timeoutMs);
  if (r.outcome === "error" && r.error.type === "BadArguments" && /takes 2 to 3 argument/.test(r.error.message)) {
    return send("delegation.poll", [id, cursor, waitMs], timeoutMs);
  }
  return r;
}

/**
 * Runs one synchronous share to its end: every leaf reaches `onResult` exactly once (from the sub-overlord,
 * or as the outcome the rules give it), anomalies reach `onAnomaly`.
 */
export async function runShare(
  ledger: ShareLedger,
  leaves: readonly string[],
  call: ShareCall,
  send: SendToSub,
  onResult: (host: string, result: HostResult) => void,
  onAnomaly: (a: Anomaly) => void,
  opts: { deadlineMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const emit = (list: [string, HostResult][]) => {
    for (const [h, r] of list) onResult(h, r);
  };
  let started = await send("delegation.run", runParams(call, leaves), call.timeoutMs);
  if (started.outcome === "timeout" || started.outcome === "unreachable") {
    // the id makes a repeat the same share: one more try costs nothing and saves a transient refusal
    await sleep(RETRY_PAUSE_MS);
    started = await send("delegation.run", runParams(call, leaves), call.timeoutMs);
  }
  if (started.outcome !== "ok") return emit(startFailure(ledger, started));
  const startedAt = Date.now();
  const deadline = startedAt + (opts.deadlineMs ?? shareDeadlineMs(call.timeoutMs));
  let cursor = 0;
  let last = "";
  let polledAt = 0;
  while (true) {
    const gap = polledAt + pollInterval(polledAt - startedAt) - Date.now();
    if (gap > 0) await sleep(gap);
    polledAt = Date.now();
    if (Date.now() > deadline || opts.signal?.aborted) {
      return emit(ledger.finish("lost", "ShareDeadline", `no final answer from ${ledger.sub} in time${last ? ` (last: ${last})` : ""}; the host may have run`));
    }
    const r = await poll(send, call.id, cursor, POLL_WAIT_MAX_MS, call.timeoutMs + POLL_WAIT_MAX_MS);
    if (r.outcome !== "ok") {
      last = `${r.outcome}: ${r.error.message}`;
      if (r.outcome === "error" || r.outcome === "denied") {
        return emit(ledger.finish("lost", "SharePollRefused", `${ledger.sub} refused to report the share (${r.error.type}: ${r.error.message}); the host may have run`));
      }
      // unreachable or no answer: the sub-overlord may be restarting; its share goes on without it
      await sleep(RETRY_PAUSE_MS);
      continue;
    }
    const read = readPage(r.value, cursor);
    if (!read) {
      onAnomaly({ kind: "malformed", sub: ledger.sub, hosts: [], detail: "answered a malformed page (the share is abandoned)" });
      return emit(ledger.finish("lost", "BadPage", `${ledger.sub} answered a malformed page; the host may have run`));
    }
    const { fresh, anomalies } = ledger.take(read.page.lines, read.malformed);
    emit(fresh);
    anomalies.forEach(onAnomaly);
    cursor = read.page.cursor;
    // a full page: more is waiting now, so the next poll goes at once
    if (read.page.lines.length >= PAGE_MAX_LINES) polledAt = 0;
    if (read.page.done) {
      const end = ledger.finishDone();
      end.anomalies.forEach(onAnomaly);
      return emit(end.results);
    }
    if (!read.page.alive) {
      return emit(ledger.finish("lost", "ShareDied", `the process running the share on ${ledger.sub} died before reporting this host; it may have run`));
    }
  }
}

/**
 * Reads what an async share has so far, from the first page on (the overlord keeps no cursor: a restarted
 * overlord reads the share again, and hosts it already holds are simply skipped). Ends when a page brings
 * nothing new. Returns whether the share is done, or why it could not be read (the leaves stay open).
 */
export async function readShare(
  ledger: ShareLedger,
  id: string,
  send: SendToSub,
  timeoutMs: number,
  onResult: (host: string, result: HostResult) => void,
  onAnomaly: (a: Anomaly) => void,
): Promise<{ done: boolean } | { failed: HostResult }> {
  let cursor = 0;
  while (true) {
    const r = await poll(send, id, cursor, 0, timeoutMs);
    if (r.outcome !== "ok") return { failed: r };
    const read = readPage(r.value, cursor);
    if (!read) {
      onAnomaly({ kind: "malformed", sub: ledger.sub, hosts: [], detail: "answered a malformed page" });
      return { failed: failure("error", "BadPage", `${ledger.sub} answered a malformed page`) };
    }
    const { fresh, anomalies } = ledger.take(read.page.lines, read.malformed);
    for (const [h, res] of fresh) onResult(h, res);
    anomalies.forEach(onAnomaly);
    cursor = read.page.cursor;
    if (read.page.done) return { done: true };
    if (read.page.lines.length === 0 && read.malformed === 0) return { done: false };
  }
}
