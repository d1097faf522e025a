// Overlord async jobs (DESIGN section 6): submit (record first, then a detached dispatcher fans
// `async.m.f` out with the job id as idempotency key), status (resume a dead dispatcher, poll only the open
// hosts in parallel, store each answer as it arrives), wait, list and purge. The Overlord class wraps this.

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  ASYNC_METHOD_PREFIX,
  CALLER_HEADER,
  FuncError,
  PATH_HEADER,
  formatPath,
  spawnDetached,
  JOB_ID_HEADER,
  emptySummary,
  checkJobId,
  failure,
  gotNoAnswer,
  newJobId,
  processRunning,
  type HomePaths,
  type HostResult,
  type Summary,
  hostError,
} from "@func/shared";
import type { FanOutCall, OnResult } from "../call/fan-out.js";
import { ShareLedger, describeAnomaly } from "../delegation/accounting.js";
import { readShare, runParams, type SendToSub } from "../delegation/share.js";
import {
  DELEGATED_PREFIX,
  JOB_STATE_CODE,
  deriveJobState,
  lostAtDeadline,
  readDispatchReply,
  readStatusReply,
  type DispatchSettings,
  type HostState,
  type JobMeta,
  type JobRecord,
  type JobState,
} from "./job-state.js";
import type { JobStore } from "./job-store.js";
import type { MinionAddress } from "../call/universe.js";

/** The dispatcher entry point, beside this file once built. */
export const DISPATCHER_PATH = fileURLToPath(new URL("../bin/func-dispatcher.js", import.meta.url));
/** Without a recorded dispatcher pid this long after creation, the submitter died before starting it. */
const DISPATCH_START_GRACE_MS = 30_000;
/** Tries per host when the async call gets no answer (the idempotency key makes a repeat safe). */
const DISPATCH_ATTEMPTS = 3;
/** Pause between dispatch tries, ms. */
const DISPATCH_RETRY_MS = 300;
/** Finished jobs the dispatcher purges (past retention) each time it runs: keeps a run short. */
const PURGE_PER_DISPATCH = 10_000;
/** Dispatcher output (it prints only when something is wrong), under the log dir. */
const DISPATCHER_LOG = "dispatcher.log";
/** The method that asks a minion about one of its jobs. */
const STATUS_METHOD = "jobs.job_status";

/** A host not final yet: dispatched and running, or not dispatched yet (`minionJobId` null). */
export interface OpenHost {
  outcome: "running";
  final: false;
  minionJobId: string | null;
}

/**
 * One host of a job in a status report: its final result (`final: true`), or open: `running`, or the
 * `unreachable`/`timeout` this poll met (`final: false`; it stays open until it answers or the deadline).
 */
export type JobHost = (HostResult & { final: boolean; minionJobId?: string }) | OpenHost;

/** What `jobStatus` reports. `code` is Func's: 0 RUNNING, 3 PARTIAL, 1 FINISHED. */
export interface JobStatus {
  id: string;
  status: JobState;
  code: number;
  spec: string;
  module: string;
  method: string;
  args: unknown[];
  /** ISO-8601 */
  created: string;
  deadline: string;
  total: number;
  /** hosts with a final outcome */
  done: number;
  /** every targeted host, sorted by name */
  hosts: Record<string, JobHost>;
  /** hosts per reported outcome (`running` for open ones) */
  summary: Summary & { running: number };
  dispatcher: { pid: number | null; done: boolean; redispatched: number };
}

/** One line of `listJobs`: read from the store only (no minion is asked). */
export interface JobSummary extends Pick<JobStatus, "id" | "status" | "code" | "spec" | "module" | "method" | "created" | "total" | "done"> {
  /** outcome counts of the final hosts */
  summary: Summary;
}

export interface WaitOptions {
  /** called once per host, as soon as it is final (hosts already final at the first poll included) */
  onHost?: (host: string, result: HostResult & { minionJobId?: string }) => void;
  /** called after every poll */
  onStatus?: (status: JobStatus) => void;
  /** give up after this long and resolve with the last status (hosts may still be open) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** between polls, ms (default: overlord.conf poll_interval_ms) */
  intervalMs?: number;
}

/** What the engine needs from an Overlord: the store, how to dial hosts, how to fan out. */
export interface JobContext {
  paths: HomePaths;
  store: JobStore;
  jobDeadlineS: number;
  jobRetentionS: number;
  pollIntervalMs: number;
  /** per-host timeout for status polls, ms */
  timeoutMs: number;
  addresses(hosts: readonly string[]): MinionAddress[];
  fanOut(minions: readonly MinionAddress[], call: FanOutCall, onResult: OnResult, settings?: { forks?: number; concurrency?: number }): Promise<void>;
  /** environment of the detached dispatcher */
  env: Readonly<Record<string, string | undefined>>;
  /** calls one sub-overlord (its shares' start and pages) with these headers */
  sendTo(sub: string, headers?: Record<string, string>): Promise<SendToSub>;
  /** what a sub-overlord answered that was not trusted */
  onNotice(message: string): void;
}

/** The headers that carry a relayed job's caller and path (DESIGN section 12). */
function relayHeaders(job: JobRecord): Record<string, string> {
  if (!job.relay) return {};
  return { [CALLER_HEADER]: job.relay.caller, ...(job.relay.path.length ? { [PATH_HEADER]: formatPath(job.relay.path) } : {}) };
}

/** Submit-time extras: a given id (a sub-overlord's share keeps the tier above's), routes and relay. */
export interface SubmitExtra {
  id?: string;
  routes?: Record<string, string[]>;
  relay?: { caller: string; path: string[] };
  /** hosts of the job already final before dispatch (a fact filter could not read their facts): never sent */
  finals?: ReadonlyArray<{ host: string; result: HostResult }>;
}

export class JobEngine {
  readonly #c: JobContext;

  constructor(context: JobContext) {
    this.#c = context;
  }

  get store(): JobStore {
    return this.#c.store;
  }

  /** Writes the job (with every host) and makes it durable, then starts the detached dispatcher. */
  async submit(spec: string, hosts: readonly string[], module: string, method: string, args: readonly unknown[], dispatch: DispatchSettings, extra: SubmitExtra = {}): Promise<string> {
    const created = Date.now();
    const id = extra.id ?? newJobId(new Date(created));
    // the same id again is the same job (a sub-overlord's share started twice): nothing is sent twice
    if (extra.id && this.#c.store.job(id)) return id;
    const job: JobRecord = {
      id,
      spec,
      module,
      method,
      args: [...args],
      created,
      deadline: created + this.#c.jobDeadlineS * 1000,
      hosts: [...hosts],
      dispatch,
      ...(extra.routes && Object.keys(extra.routes).length ? { routes: extra.routes } : {}),
      ...(extra.relay ? { relay: extra.relay } : {}),
    };
    await this.#c.store.create(job);
    if (extra.finals?.length) await this.#c.store.recordFinals(id, extra.finals.map((f) => ({ ...f, at: created })));
    await this.#c.store.flushed();
    const pid = this.#spawnDispatcher(id);
    await this.#c.store.updateMeta(id, { dispatcherPid: pid });
    return id;
  }

  #spawnDispatcher(id: string): number {
    const { paths } = this.#c;
    try {
      // own session: the dispatcher finishes the fan-out after `func` has printed the id and exited
      return spawnDetached([DISPATCHER_PATH, id, paths.configDir, paths.stateDir], { logFile: join(paths.logDir, DISPATCHER_LOG), env: { ...this.#c.env } }).pid;
    } catch {
      // no pid: the next status call finds no live dispatcher and dispatches itself
      return 0;
    }
  }

  #job(id: string): JobRecord {
    checkJobId(id);
    const job = this.#c.store.job(id);
    if (!job) throw new FuncError("NotFound", `no job ${id} here (never created, or purged after the retention period)`);
    return job;
  }

  /**
   * Dispatches every host of the job that has neither a minion job id nor a final outcome. The detached
   * dispatcher runs this; a status call runs it again when the dispatcher died (`resumed`). Hosts are
   * recorded as they answer.
   */
  async dispatch(id: string, opts: { resumed?: boolean } = {}): Promise<void> {
    const { store } = this.#c;
    const job = this.#job(id);
    const states = store.hostStates(id);
    const pending = job.hosts.filter((h) => states[h]?.minionJobId === undefined && states[h]?.result === undefined);
    const call: FanOutCall = {
      method: `${ASYNC_METHOD_PREFIX}${job.module}.${job.method}`,
      params: job.args,
      timeoutMs: job.dispatch.timeoutMs,
      headers: { [JOB_ID_HEADER]: id, ...relayHeaders(job) },
    };
    const settings = { forks: job.dispatch.forks, concurrency: job.dispatch.concurrency };
    const viaSub = new Map<string, string>();
    for (const [sub, leaves] of Object.entries(job.routes ?? {})) for (const leaf of leaves) viaSub.set(leaf, sub);
    let todo = pending;
    for (let attempt = 1; todo.length > 0; attempt++) {
      const retry = new Map<string, HostResult>();
      // each answer is written as it arrives (the writes queue for the host lock); all are awaited below
      const writes: Promise<unknown>[] = [];
      const onResult: OnResult = (host, result) => {
        const reading = readDispatchReply(result);
        if ("minionJobId" in reading) writes.push(store.recordMinionJob(id, host, reading.minionJobId));
        else if ("final" in reading) writes.push(store.recordFinal(id, host, reading.final));
        else retry.set(host, reading.retry);
      };
      const direct = todo.filter((h) => !viaSub.has(h));
      const shares = new Map<string, string[]>();
      for (const h of todo) {
        const sub = viaSub.get(h);
        if (sub !== undefined) shares.set(sub, [...(shares.get(sub) ?? []), h]);
      }
      const shareRuns = [...shares].map(([sub, open]) => this.#startShare(job, sub, open, writes, retry));
      await this.#c.fanOut(this.#c.addresses(direct), call, onResult, settings);
      await Promise.all(shareRuns);
      await Promise.all(writes);
      todo = [...retry.keys()];
      if (todo.length === 0) break;
      if (attempt >= DISPATCH_ATTEMPTS) {
        for (const [host, last] of retry) await store.recordFinal(id, host, undispatched(last, opts.resumed === true));
        break;
      }
      await sleep(DISPATCH_RETRY_MS);
    }
    await store.updateMeta(id, { dispatchDone: true, ...(opts.resumed ? { redispatched: pending.length } : {}) });
    await this.#noteFinished(job, store.hostStates(id));
  }

  /**
   * Starts the job's share on one sub-overlord (`delegation.run` with every leaf of its route: the job id
   * makes a repeat the same share) and records its open leaves as delegated, or their outcome.
   */
  async #startShare(job: JobRecord, sub: string, open: readonly string[], writes: Promise<unknown>[], retry: Map<string, HostResult>): Promise<void> {
    const { store } = this.#c;
    const leaves = job.routes?.[sub] ?? [];
    const send = await this.#c.sendTo(sub, relayHeaders(job));
    const started = await send(
      "delegation.run",
      runParams({ id: job.id, module: job.module, method: job.method, args: job.args, timeoutMs: job.dispatch.timeoutMs, async: true }, leaves),
      job.dispatch.timeoutMs,
    );
    if (started.outcome === "ok") {
      for (const leaf of open) writes.push(store.recordMinionJob(job.id, leaf, `${DELEGATED_PREFIX}${sub}`));
      return;
    }
    const failed: HostResult = { ...started, error: { ...started.error, message: `via ${sub}: ${started.error.message}` }, via: [sub] };
    const reading = readDispatchReply(failed);
    for (const leaf of open) {
      if ("retry" in reading) retry.set(leaf, reading.retry);
      else writes.push(store.recordFinal(job.id, leaf, failed));
    }
  }

  /**
   * Reads each sub-overlord's share of the job's open delegated leaves and records what is final. A share
   * that cannot be read leaves its leaves open (this poll's outcome is `transient`) until the deadline.
   */
  async #pollShares(job: JobRecord, states: Record<string, HostState>, open: readonly string[], transient: Map<string, HostResult>): Promise<void> {
    const { store } = this.#c;
    const bySub = new Map<string, string[]>();
    for (const h of open) {
      const mj = states[h]?.minionJobId ?? "";
      if (mj.startsWith(DELEGATED_PREFIX)) {
        const sub = mj.slice(DELEGATED_PREFIX.length);
        bySub.set(sub, [...(bySub.get(sub) ?? []), h]);
      }
    }
    await Promise.all(
      [...bySub].map(async ([sub, openLeaves]) => {
        const ledger = new ShareLedger(sub, job.routes?.[sub] ?? openLeaves);
        const stillOpen = new Set(openLeaves);
        for (const [h, s] of Object.entries(states)) if (s.result) ledger.markSettled(h, s.result);
        const writes: Promise<unknown>[] = [];
        const record = (host: string, result: HostResult) => {
          if (stillOpen.delete(host)) writes.push(store.recordFinal(job.id, host, result));
        };
        const send = await this.#c.sendTo(sub, relayHeaders(job));
        const read = await readShare(ledger, job.id, send, this.#c.timeoutMs, record, (a) => this.#c.onNotice(describeAnomaly(a)));
        if ("done" in read && read.done) {
          const end = ledger.finishDone();
          end.anomalies.forEach((a) => this.#c.onNotice(describeAnomaly(a)));
          for (const [h, r] of end.results) record(h, r);
        } else if ("failed" in read) {
          const f = read.failed;
          const message = f.outcome === "ok" ? "no page" : `${f.error.type}: ${f.error.message}`;
          const noAnswer = f.outcome === "unreachable" || f.outcome === "timeout";
          for (const h of stillOpen) {
            const err = hostError(noAnswer ? "SubOverlordUnreachable" : "SharePollRefused", `via ${sub}: ${message}`);
            if (!noAnswer) record(h, { outcome: "lost", error: err, via: [sub] });
            else if (Date.now() > job.deadline) record(h, lostAtDeadline(err));
            else transient.set(h, { outcome: f.outcome === "timeout" ? "timeout" : "unreachable", error: err, via: [sub] });
          }
        }
        await Promise.all(writes);
      }),
    );
  }

  /** Purges finished jobs past the retention period (a bounded amount per call). */
  purgeExpired(): Promise<number> {
    return this.#c.store.purge(this.#c.jobRetentionS, Date.now(), PURGE_PER_DISPATCH);
  }

  #dispatcherAlive(job: JobRecord, meta: JobMeta): boolean {
    if (meta.dispatcherPid) return processRunning(meta.dispatcherPid, job.id);
    return Date.now() - job.created < DISPATCH_START_GRACE_MS;
  }

  /** Records when the job became FINISHED (with its counts), once: listing and purging then skip its hosts. */
  async #noteFinished(job: JobRecord, states: Record<string, HostState>): Promise<JobMeta | undefined> {
    const derived = deriveJobState(job.hosts, states);
    if (derived.status !== "FINISHED") return undefined;
    const meta = this.#c.store.meta(job.id);
    if (meta.finished !== undefined) return meta;
    return this.#c.store.updateMeta(job.id, { finished: derived.lastUpdate || Date.now(), summary: derived.summary });
  }

  /**
   * The job's status. With `poll` (default), a dead dispatcher's undispatched hosts are dispatched again,
   * and the open hosts are asked, in parallel, for their minion job's status; each answer is stored as it
   * arrives. Without it, the store's view only.
   */
  async status(id: string, opts: { poll?: boolean } = {}): Promise<JobStatus> {
    const { store } = this.#c;
    const job = this.#job(id);
    const poll = opts.poll !== false;
    let meta = store.meta(id);
    if (poll && !meta.dispatchDone && !this.#dispatcherAlive(job, meta)) {
      await this.dispatch(id, { resumed: true });
      meta = store.meta(id);
    }
    let states = store.hostStates(id);
    const transient = new Map<string, HostResult>();
    const allOpen = deriveJobState(job.hosts, states).open;
    const open = allOpen.filter((h) => !states[h]!.minionJobId!.startsWith(DELEGATED_PREFIX));
    if (poll && allOpen.length > open.length) await this.#pollShares(job, states, allOpen, transient);
    if (poll && open.length > 0) {
      const perHostParams = Object.fromEntries(open.map((h) => [h, [states[h]!.minionJobId!]]));
      const writes: Promise<unknown>[] = [];
      const headers = relayHeaders(job);
      await this.#c.fanOut(this.#c.addresses(open), { method: STATUS_METHOD, params: [], perHostParams, timeoutMs: this.#c.timeoutMs, headers }, (host, result) => {
        if (result.outcome === "ok") {
          const reply = readStatusReply(result.value);
          if ("final" in reply) writes.push(store.recordFinal(id, host, reply.final));
        } else if (gotNoAnswer(result)) {
          // no answer is not an answer: the host stays open until it answers or the deadline passes
          if (Date.now() > job.deadline) writes.push(store.recordFinal(id, host, lostAtDeadline(result.error)));
          else transient.set(host, result);
        } else {
          writes.push(store.recordFinal(id, host, result));
        }
      });
      await Promise.all(writes);
    }
    if (poll && allOpen.length > 0) states = store.hostStates(id);
    meta = (await this.#noteFinished(job, states)) ?? meta;
    return report(job, meta, states, transient);
  }

  /** Polls until the job is FINISHED (or the timeout / signal), telling `onHost` of each host once. */
  async wait(id: string, opts: WaitOptions = {}): Promise<JobStatus> {
    const seen = new Set<string>();
    const until = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
    const interval = opts.intervalMs ?? this.#c.pollIntervalMs;
    while (true) {
      const st = await this.status(id);
      for (const [host, r] of Object.entries(st.hosts)) {
        if (!r.final || seen.has(host)) continue;
        seen.add(host);
        const { final: _final, ...result } = r;
        opts.onHost?.(host, result);
      }
      opts.onStatus?.(st);
      const left = until - Date.now();
      if (st.status === "FINISHED" || left <= 0 || opts.signal?.aborted) return st;
      try {
        await sleep(Math.min(interval, left), undefined, opts.signal ? { signal: opts.signal } : undefined);
      } catch {
        return st;
      }
    }
  }

  /** Jobs newest first, from the store only. */
  list(opts: { limit?: number; before?: string } = {}): JobSummary[] {
    if (opts.before !== undefined) this.#job(opts.before);
    return this.#c.store.list(opts).map(({ job, meta, hosts }) => {
      const derived = meta.finished !== undefined ? null : deriveJobState(job.hosts, hosts);
      const status: JobState = derived ? derived.status : "FINISHED";
      return {
        id: job.id,
        status,
        code: JOB_STATE_CODE[status],
        spec: job.spec,
        module: job.module,
        method: job.method,
        created: new Date(job.created).toISOString(),
        total: job.hosts.length,
        done: derived ? derived.done : job.hosts.length,
        summary: derived ? derived.summary : { ...emptySummary(), ...meta.summary },
      };
    });
  }

  /** Deletes jobs finished more than `olderThanS` seconds ago (never one with an open host). */
  purge(olderThanS: number): Promise<number> {
    return this.#c.store.purge(olderThanS);
  }
}

/** A host the dispatch never reached after every try: it never ran, or (resumed) we cannot know. */
function undispatched(last: HostResult, resumed: boolean): HostResult {
  const why = last.outcome === "ok" ? "no job id" : `${last.error.type}: ${last.error.message}`;
  if (resumed) {
    return failure("lost", "DispatchLost", `the dispatcher died before recording this host, and dispatching again failed (${why})`);
  }
  if (last.outcome === "timeout") {
    return failure("timeout", "DispatchTimeout", `no answer to the async call after ${DISPATCH_ATTEMPTS} tries; the job may have started on the minion (${why})`);
  }
  return last;
}

function report(job: JobRecord, meta: JobMeta, states: Record<string, HostState>, transient: ReadonlyMap<string, HostResult>): JobStatus {
  const derived = deriveJobState(job.hosts, states);
  const summary = { ...emptySummary(), running: 0 };
  const hosts: Record<string, JobHost> = {};
  for (const host of [...job.hosts].sort()) {
    const s = states[host];
    const minion = s?.minionJobId !== undefined ? { minionJobId: s.minionJobId } : {};
    let entry: JobHost;
    if (s?.result) entry = { ...s.result, final: true, ...minion };
    else if (transient.has(host)) entry = { ...transient.get(host)!, final: false, ...minion };
    else entry = { outcome: "running", final: false, minionJobId: s?.minionJobId ?? null };
    summary[entry.outcome] += 1;
    hosts[host] = entry;
  }
  return {
    id: job.id,
    status: derived.status,
    code: JOB_STATE_CODE[derived.status],
    spec: job.spec,
    module: job.module,
    method: job.method,
    args: job.args,
    created: new Date(job.created).toISOString(),
    deadline: new Date(job.deadline).toISOString(),
    total: job.hosts.length,
    done: derived.done,
    hosts,
    summary,
    dispatcher: { pid: meta.dispatcherPid ?? null, done: meta.dispatchDone === true, redispatched: meta.redispatched ?? 0 },
  };
}
