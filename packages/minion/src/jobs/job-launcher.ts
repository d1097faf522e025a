// The minion's async jobs (DESIGN section 6): `async.m.f(args)` records a RUNNING job and starts a detached
// runner (own session, outlives funcd) that writes its result to the spool; funcd moves results into the
// store; `jobs.*` report, list and purge. A RUNNING job whose runner is gone without a result is reported
// (and stored) as LOST_IN_SPACE, never RUNNING forever.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FuncError,
  spawnDetached,
  JOB_STATUS,
  newJobId,
  processRunning,
  type HomePaths,
  type MinionConfig,
  type WireValue,
} from "@func/shared";
import { OVERLORD_ROLE } from "../acl.js";
import { readResultFile, removeSpool, writeJobFile } from "./job-spool.js";
import type * as JobStoreModule from "./minion-job-store.js";
import type { MinionJob, MinionJobStore } from "./minion-job-store.js";
import type { CallContext, JobCaller } from "../registry.js";
import type { AsyncStarter } from "../server.js";

/** The runner entry point, beside this file once built. */
export const RUNNER_PATH = fileURLToPath(new URL("../bin/job-runner.js", import.meta.url));
/** A RUNNING record with no runner pid this long after creation: funcd died before starting the runner. */
const RUNNER_START_GRACE_MS = 60_000;
/** Bounds on how often funcd runs the retention purge, ms. */
const PURGE_EVERY_MIN_MS = 1000;
const PURGE_EVERY_MAX_MS = 60 * 60 * 1000;
/** Runner stdout/stderr (runners print only when something is wrong), under the log dir. */
const RUNNER_LOG = "runner.log";

export interface AsyncJobsOptions {
  /** problems that are not a caller's fault (a store that cannot be opened, a failed purge) */
  log?: (message: string) => void;
  /** the runner script (tests may point it elsewhere) */
  runnerPath?: string;
}

let storeModule: typeof JobStoreModule | undefined;
/**
 * The store's module loads LMDB's native module (~5-10 MB of a minion's memory): it is loaded with the first
 * job call, so a minion that never runs async jobs does not carry it. Synchronous (require of our ESM),
 * because the store is opened from synchronous paths.
 */
function jobStoreModule(): typeof JobStoreModule {
  storeModule ??= createRequire(import.meta.url)("./minion-job-store.js") as typeof JobStoreModule;
  return storeModule;
}

export class AsyncJobs implements AsyncStarter {
  readonly #paths: HomePaths;
  readonly #config: MinionConfig;
  readonly #opts: AsyncJobsOptions;
  #store: MinionJobStore | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(paths: HomePaths, config: MinionConfig, opts: AsyncJobsOptions = {}) {
    this.#paths = paths;
    this.#config = config;
    this.#opts = opts;
  }

  /** Whether a store exists (open, or on disk from an earlier run): queries never create one. */
  #hasStore(): boolean {
    return this.#store !== undefined || existsSync(this.#paths.minionJobsDir);
  }

  /** Opened on first use: a store that cannot be opened fails the job calls (a fault), never funcd. */
  #jobs(): MinionJobStore {
    this.#store ??= new (jobStoreModule().MinionJobStore)(this.#paths.minionJobsDir);
    return this.#store;
  }

  /**
   * Opens a store left by an earlier funcd now (migrating an older format), so that a store in a newer format
   * than this funcd's stops it at start with a ConfigError (exit 2) instead of failing every job call. Any
   * other failure to open is logged and left to the job calls, which answer it as a fault.
   */
  openExisting(): void {
    if (!this.#hasStore()) return;
    try {
      this.#jobs();
    } catch (err) {
      if (err instanceof FuncError && err.type === "ConfigError") throw err;
      this.#opts.log?.(`job store: ${(err as Error).message}`);
    }
  }

  async start(method: string, args: WireValue[], ctx: CallContext, idempotencyKey: string | null): Promise<string> {
    const store = this.#jobs();
    const job: MinionJob = {
      id: newJobId(),
      method,
      args,
      peerCn: ctx.peerCn,
      peerRole: ctx.peerRole,
      address: ctx.address,
      created: Date.now(),
      status: JOB_STATUS.RUNNING,
      ...(idempotencyKey !== null && idempotencyKey !== "" ? { overlordJob: idempotencyKey } : {}),
    };
    const c = this.#config;
    const caps = {
      total: c.maxAsyncJobs,
      perIdentity: c.maxAsyncJobsPerIdentity,
      reserved: Math.min(c.overlordReservedAsyncJobs, c.maxAsyncJobs - 1),
      privileged: ctx.peerRole === OVERLORD_ROLE,
    };
    let begun = store.begin(job, caps);
    if ("full" in begun) {
      // slots held by runners that died unnoticed are freed before refusing
      if (this.reap() > 0) begun = store.begin(job, caps);
      if ("full" in begun) {
        const why =
          begun.reason === "identity"
            ? `${begun.full} async jobs of ${ctx.peerCn} are running (max_async_jobs_per_identity = ${c.maxAsyncJobsPerIdentity})`
            : begun.reason === "unreserved"
              ? `${begun.full} async jobs of callers other than the overlord are running (max_async_jobs ${c.maxAsyncJobs}, overlord_reserved_async_jobs ${caps.reserved})`
              : `${begun.full} async jobs are running (max_async_jobs = ${c.maxAsyncJobs})`;
        throw new FuncError("LimitExceeded", why);
      }
    }
    if (begun.existing) return begun.id;
    try {
      writeJobFile(this.#paths.runDir, { id: job.id, method, args, peerCn: ctx.peerCn, peerRole: ctx.peerRole, address: ctx.address, config: this.#config });
      const pid = this.#spawnRunner(job.id);
      store.setPid(job.id, pid);
    } catch (err) {
      store.abandon(job.id);
      removeSpool(this.#paths.runDir, job.id);
      throw new FuncError("LimitExceeded", `cannot start the job runner: ${(err as Error).message}`, { cause: err });
    }
    return job.id;
  }

  #spawnRunner(id: string): number {
    // own session: the runner outlives funcd (a restart, a crash, SIGKILL of funcd's process group)
    const child = spawnDetached([this.#opts.runnerPath ?? RUNNER_PATH, id, this.#paths.configDir, this.#paths.stateDir], {
      logFile: join(this.#paths.logDir, RUNNER_LOG),
      cwd: "/",
    });
    // while funcd is its parent, its result is taken in as soon as it exits (after a restart, at the next look)
    child.on("exit", (code, signal) => {
      if (this.#closed) return;
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      if (code !== 0) this.#opts.log?.(`job ${id}: the runner (pid ${child.pid}) ended: ${how}`);
      try {
        const job = this.#jobs().get(id);
        if (job?.status === JOB_STATUS.RUNNING) this.#settle(job, Date.now(), how);
      } catch (err) {
        this.#opts.log?.(`job ${id}: ${(err as Error).message}`);
      }
    });
    return child.pid;
  }

  /** Settles every RUNNING job whose runner is gone: its result taken in, or LOST_IN_SPACE; returns how many. */
  reap(now = Date.now()): number {
    if (!this.#hasStore()) return 0;
    const store = this.#jobs();
    let settled = 0;
    for (const id of store.runningIds()) {
      const job = store.get(id);
      if (job && this.#settle(job, now) !== null) settled += 1;
    }
    return settled;
  }

  /** Why a RUNNING job's runner is gone, or null while it may still be running. */
  #gone(job: MinionJob, now: number): string | null {
    if (job.pid === undefined) {
      return now - job.created > RUNNER_START_GRACE_MS ? "the runner was never started (funcd stopped first)" : null;
    }
    return processRunning(job.pid, job.id) ? null : `the runner (pid ${job.pid}) exited without writing a result`;
  }

  /**
   * For a RUNNING job: null while its runner may still run; else the record as it now stands, with the
   * runner's result taken in from the spool, or LOST_IN_SPACE with the reason when there is none.
   */
  #settle(job: MinionJob, now: number, how?: string): MinionJob | null {
    const reason = this.#gone(job, now) ?? (how !== undefined ? `the runner (pid ${job.pid}) exited without writing a result` : null);
    if (reason === null) return null;
    // read after the runner is known gone: a result it wrote is on disk by now
    const spooled = readResultFile(this.#paths.runDir, job.id);
    const done = spooled
      ? this.#jobs().finish(job.id, spooled.status, spooled.result, now)
      : this.#jobs().finish(job.id, JOB_STATUS.LOST_IN_SPACE, { reason: how ? `${reason} (${how})` : reason }, now);
    if (done.job?.status !== JOB_STATUS.RUNNING) removeSpool(this.#paths.runDir, job.id);
    return done.job ?? null;
  }

  status(id: string, caller: JobCaller): [number, WireValue] {
    // asking about a job never creates the store: without one, there is no such job
    let job = this.#hasStore() ? this.#jobs().get(id) : undefined;
    if (!job || !visibleTo(job, caller)) return [JOB_STATUS.LOST_IN_SPACE, { reason: "no such job on this minion (never started, or purged)" }];
    if (job.status === JOB_STATUS.RUNNING) {
      const settled = this.#settle(job, Date.now());
      if (settled === null) return [JOB_STATUS.RUNNING, null];
      job = settled;
    }
    return [job.status, job.result ?? null];
  }

  list(caller: JobCaller, limit?: number): WireValue[] {
    this.reap();
    if (!this.#hasStore()) return [];
    const max = jobStoreModule().MAX_LIST;
    return this.#jobs()
      .list(Math.min(Math.max(1, Math.floor(limit ?? max)), max))
      .filter((j) => visibleTo(j, caller))
      .map((j) => ({
        id: j.id,
        method: j.method,
        args: j.args,
        status: j.status,
        peer: j.peerCn,
        created: Math.floor(j.created / 1000),
        ...(j.finished !== undefined ? { finished: Math.floor(j.finished / 1000) } : {}),
        ...(j.pid !== undefined ? { pid: j.pid } : {}),
        ...(j.overlordJob !== undefined ? { overlord_job: j.overlordJob } : {}),
      }));
  }

  purge(olderThanS: number, caller: JobCaller): number {
    if (caller.role !== OVERLORD_ROLE) throw new FuncError("AccessDenied", "only the overlord may purge jobs");
    this.reap();
    return this.#jobs().purge(olderThanS);
  }

  /** Runs the retention purge now and then every so often (a fraction of the retention, within bounds). */
  startRetention(): void {
    const every = Math.min(PURGE_EVERY_MAX_MS, Math.max(PURGE_EVERY_MIN_MS, (this.#config.jobRetentionS * 1000) / 4));
    const run = () => {
      // no store yet (no job ever ran here): nothing to reap or purge, and no reason to load LMDB for it
      if (!this.#hasStore()) return;
      try {
        this.reap();
        this.#jobs().purge(this.#config.jobRetentionS);
      } catch (err) {
        this.#opts.log?.(`job store: retention purge failed: ${(err as Error).message}`);
      }
    };
    run();
    this.#timer = setInterval(run, every);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }
}

function visibleTo(job: Pick<MinionJob, "peerCn">, caller: JobCaller): boolean {
  return caller.role === OVERLORD_ROLE || caller.cn === job.peerCn;
}
