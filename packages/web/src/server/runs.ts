// Live runs behind POST /api/calls and the event streams: a run is a job in the overlord's store whose
// per-host results also sit here, in the order they finished, for every stream that follows it. A warm call
// fans out on the service's long-lived Overlord (its results reach the store in batches); an async one is
// submitted as an overlord job and followed by polling. Jobs started elsewhere are followed on demand.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STORE_FORMATS, failure, newJobId, readFormatFile, stampFormatFile, summarize, writeFileAtomic, type HostResult, type Outcome, type Summary } from "@func/shared";
import type { JobEngine, JobRecord, Overlord } from "@func/overlord";
import { webDir, webFormatFile } from "../config.js";

/** How long results wait before they are written to the job store together, ms. */
const FLUSH_MS = 100;

export interface RunEvent {
  /** 1, 2, ...: the event id a reconnecting stream resumes after */
  seq: number;
  host: string;
  result: HostResult;
  /** epoch ms when it finished */
  at: number;
}

export interface RunSummary {
  id: string;
  status: "RUNNING" | "FINISHED";
  total: number;
  done: number;
  summary: Summary;
  /** ms from the start to the last result */
  elapsedMs: number;
}

export interface CallRequest {
  spec: string;
  hosts: string[];
  module: string;
  method: string;
  args: unknown[];
  async: boolean;
  /** hosts in flight at once (Salt's --batch); default: the overlord's concurrency */
  batch?: number;
}

type Listener = (event: RunEvent | RunSummary) => void;

export class Run {
  readonly id: string;
  readonly total: number;
  readonly started: number;
  readonly events: RunEvent[] = [];
  #finished: number | null = null;
  readonly #listeners = new Set<Listener>();
  readonly #seen = new Set<string>();

  constructor(id: string, total: number, started: number) {
    this.id = id;
    this.total = total;
    this.started = started;
  }

  get done(): boolean {
    return this.#finished !== null;
  }

  /** Adds a host's result once (later ones for the same host are ignored). */
  add(host: string, result: HostResult, at = Date.now()): RunEvent | null {
    if (this.#seen.has(host) || this.done) return null;
    this.#seen.add(host);
    const event = { seq: this.events.length + 1, host, result, at };
    this.events.push(event);
    for (const l of this.#listeners) l(event);
    return event;
  }

  finish(at = Date.now()): void {
    if (this.done) return;
    this.#finished = at;
    const s = this.summary();
    for (const l of this.#listeners) l(s);
    this.#listeners.clear();
  }

  summary(): RunSummary {
    const last = this.events.at(-1)?.at ?? this.started;
    return {
      id: this.id,
      status: this.done ? "FINISHED" : "RUNNING",
      total: this.total,
      done: this.events.length,
      summary: summarize(this.events.map((e) => e.result.outcome)),
      elapsedMs: Math.max(0, (this.#finished !== null ? Math.max(last, this.started) : last) - this.started),
    };
  }

  /** Calls `listener` with every later event and the summary; returns the unsubscribe function. */
  listen(listener: Listener): () => void {
    if (this.done) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface HostHealth {
  /** epoch ms of the last answer (any outcome but unreachable/timeout) */
  lastSeen: number | null;
  lastOutcome: Outcome;
  at: number;
}

export interface RunsOptions {
  overlord: Overlord;
  engine: JobEngine;
  paths: Overlord["paths"];
  keptRuns: number;
  log: (message: string) => void;
}

/** Every run the service knows, live ones and the last `keptRuns` finished ones. */
export class Runs {
  readonly #o: RunsOptions;
  readonly #runs = new Map<string, Run>();
  readonly #open = new Set<string>();
  readonly #abort = new AbortController();
  readonly health = new Map<string, HostHealth>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: RunsOptions) {
    this.#o = options;
  }

  get #openFile(): string {
    return join(webDir(this.#o.paths), "open-runs.json");
  }

  #saveOpen(): void {
    stampFormatFile(STORE_FORMATS.web, webFormatFile(this.#o.paths));
    writeFileAtomic(this.#openFile, JSON.stringify([...this.#open]) + "\n", 0o600);
  }

  /**
   * Warm calls a previous func-web left open when it stopped: their unanswered hosts will never be
   * reported, so they are recorded `lost` (a warm call is not re-sent: it may have run).
   */
  async recoverAbandoned(): Promise<number> {
    let ids: unknown;
    // a web directory in a newer format stops the service's start here, before a record is changed
    readFormatFile(STORE_FORMATS.web, webFormatFile(this.#o.paths));
    try {
      ids = JSON.parse(readFileSync(this.#openFile, "utf8"));
    } catch {
      return 0;
    }
    let n = 0;
    const { store } = this.#o.engine;
    for (const id of Array.isArray(ids) ? ids : []) {
      if (typeof id !== "string") continue;
      const job = store.job(id);
      if (!job) continue;
      const states = store.hostStates(id);
      const lost = job.hosts.filter((h) => states[h]?.result === undefined);
      const at = Date.now();
      await store.recordFinals(id, lost.map((host) => ({ host, at, result: failure("lost", "WebStopped", "func-web stopped before this host answered; the call was not sent again") })));
      await this.#o.engine.status(id, { poll: false });
      n += lost.length;
    }
    this.#saveOpen();
    return n;
  }

  #keep(run: Run): void {
    this.#runs.set(run.id, run);
    let extra = this.#runs.size - this.#o.keptRuns;
    for (const [id, r] of this.#runs) {
      if (extra <= 0) break;
      if (r.done) {
        this.#runs.delete(id);
        extra--;
      }
    }
  }

  #note(host: string, result: HostResult, at: number): void {
    const answered = result.outcome !== "unreachable" && result.outcome !== "timeout";
    const prev = this.health.get(host);
    this.health.set(host, { lastSeen: answered ? at : (prev?.lastSeen ?? null), lastOutcome: result.outcome, at });
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }

  /**
   * Pings `hosts` without making a job: the fleet's states when the service starts (and its connections
   * open before the first call). Failures are states too; nothing is thrown.
   */
  probe(hosts: readonly string[]): Promise<void> {
    const { overlord } = this.#o;
    const work = overlord
      .fanOut(overlord.addresses(hosts), { method: "test.ping", params: [], timeoutMs: overlord.timeoutMs }, (host, result) => this.#note(host, result, Date.now()))
      .catch((err: unknown) => this.#o.log(`the fleet check at start failed: ${(err as Error).message}`));
    return this.#track(work);
  }

  /** Starts the call; resolves to its run (with the job id) as soon as the job is recorded. */
  async start(req: CallRequest): Promise<Run> {
    return req.async ? this.#startAsync(req) : this.#startWarm(req);
  }

  async #startWarm(req: CallRequest): Promise<Run> {
    const { overlord, engine } = this.#o;
    const { store } = engine;
    const created = Date.now();
    const id = newJobId(new Date(created));
    const timeoutMs = overlord.timeoutMs;
    const concurrency = req.batch ?? overlord.config.concurrency;
    const job: JobRecord = {
      id,
      spec: req.spec,
      module: req.module,
      method: req.method,
      args: [...req.args],
      created,
      deadline: created + overlord.config.jobDeadlineS * 1000,
      hosts: [...req.hosts],
      dispatch: { forks: overlord.forks, concurrency, timeoutMs },
    };
    await store.create(job);
    // no dispatcher: the hosts are sent by this process, so a status call must never dispatch them again
    await store.updateMeta(id, { dispatchDone: true });
    this.#open.add(id);
    this.#saveOpen();
    const run = new Run(id, req.hosts.length, created);
    this.#keep(run);

    let batch: Array<{ host: string; result: HostResult; at: number }> = [];
    let timer: NodeJS.Timeout | null = null;
    let writing: Promise<void> = Promise.resolve();
    const flush = () => {
      timer = null;
      const chunk = batch;
      batch = [];
      if (chunk.length > 0) writing = writing.then(() => store.recordFinals(id, chunk)).catch((err: unknown) => this.#o.log(`job ${id}: cannot record results: ${(err as Error).message}`));
      return writing;
    };
    const onResult = (host: string, result: HostResult) => {
      const at = Date.now();
      if (!run.add(host, result, at)) return;
      this.#note(host, result, at);
      batch.push({ host, result, at });
      timer ??= setTimeout(flush, FLUSH_MS);
    };
    const work = (async () => {
      try {
        await overlord.fanOut(overlord.addresses(req.hosts), { method: `${req.module}.${req.method}`, params: req.args, timeoutMs }, onResult, { concurrency });
      } catch (err) {
        const reason = `the fan-out failed: ${(err as Error).message}`;
        for (const host of req.hosts) onResult(host, failure("error", "FanOutFailed", reason));
      }
      if (timer) clearTimeout(timer);
      await flush();
      run.finish();
      // records the job as FINISHED with its counts
      await engine.status(id, { poll: false }).catch(() => undefined);
      this.#open.delete(id);
      this.#saveOpen();
    })();
    void this.#track(work);
    return run;
  }

  async #startAsync(req: CallRequest): Promise<Run> {
    const { overlord, engine } = this.#o;
    const id = await engine.submit(req.spec, req.hosts, req.module, req.method, req.args, {
      forks: overlord.forks,
      concurrency: req.batch ?? overlord.config.concurrency,
      timeoutMs: overlord.timeoutMs,
    });
    const run = new Run(id, req.hosts.length, Date.now());
    this.#keep(run);
    this.#follow(run);
    return run;
  }

  /** Polls an async job until it is finished, adding each host as it becomes final. */
  #follow(run: Run): void {
    const work = this.#o.engine
      .wait(run.id, {
        signal: this.#abort.signal,
        onHost: (host, result) => {
          const at = Date.now();
          if (run.add(host, result, at)) this.#note(host, result, at);
        },
      })
      .then(
        (st) => {
          if (st.status === "FINISHED") run.finish();
          else this.#runs.delete(run.id);
        },
        (err: unknown) => {
          this.#o.log(`job ${run.id}: following it failed: ${(err as Error).message}`);
          this.#runs.delete(run.id);
        },
      );
    void this.#track(work);
  }

  /**
   * The run of job `id`: the live one, or one rebuilt from the store (hosts in the order they finished);
   * an unfinished job is then followed until it finishes. Throws NotFound / UsageError from the engine.
   */
  async get(id: string): Promise<Run> {
    const live = this.#runs.get(id);
    if (live) return live;
    const st = await this.#o.engine.status(id, { poll: false });
    const states = this.#o.engine.store.hostStates(id);
    const final = Object.entries(states)
      .filter(([, s]) => s.result !== undefined)
      .sort(([ha, a], [hb, b]) => a.updated - b.updated || (ha < hb ? -1 : ha > hb ? 1 : 0));
    const again = this.#runs.get(id);
    if (again) return again;
    const run = new Run(id, st.total, Date.parse(st.created));
    for (const [host, s] of final) run.add(host, s.result!, s.updated);
    this.#keep(run);
    if (st.status === "FINISHED") run.finish(final.at(-1)?.[1].updated ?? run.started);
    else this.#follow(run);
    return run;
  }

  /** Stops following jobs and waits for the warm calls in flight to be recorded. */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#pending]);
  }
}
