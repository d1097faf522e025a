// The overlord's job store (LMDB under jobs/). Keys: ["job", id] the record, ["job", id, host] one key per
// host (recording one host never rewrites another), ["meta", id] the dispatcher's bookkeeping, and
// ["created", ms, id] the index that makes "newest N" a reverse range read. The CLI, the detached
// dispatcher and API users use it from separate processes: opening it and every write (one transactionSync
// per read-modify-write) happen under the host lock, since lmdb-js is not safe with concurrent writers.

import type { Key, RootDatabase } from "lmdb";
import { resolve } from "node:path";
import { FuncError, STORE_FORMATS, withHostLock, type HostResult } from "@func/shared";
import { openLmdb, stampNewStore, storeError } from "@func/shared/lmdb-store";
import { deriveJobState, type HostState, type JobMeta, type JobRecord } from "./job-state.js";

/** Upper bound for string keys in a range (ids and host names are ASCII). */
const HIGH = "\uffff";
/** Jobs deleted per write transaction by a purge, and jobs per transaction when importing. */
const WRITE_BATCH = 500;
const IMPORT_BATCH = 10_000;

const jobKey = (id: string): Key => ["job", id];
const hostKey = (id: string, host: string): Key => ["job", id, host];
const metaKey = (id: string): Key => ["meta", id];
const createdKey = (t: number, id: string): Key => ["created", t, id];

/** A job as listed: the record, its bookkeeping and, unless it is finished, its host states. */
export interface StoredJob {
  job: JobRecord;
  meta: JobMeta;
  hosts: Record<string, HostState>;
}

/** A job that is over, as `importFinished` takes it: every host final, `meta.dispatchDone` and `meta.finished` set. */
export interface FinishedJob {
  job: JobRecord;
  hosts: Record<string, HostState>;
  meta: JobMeta;
}

export class JobStore {
  readonly #db: RootDatabase<unknown, Key>;
  readonly #lock: string;

  private constructor(db: RootDatabase<unknown, Key>, lock: string) {
    this.#db = db;
    this.#lock = lock;
  }

  /** Opens (creating) the store in `dir`. */
  static async open(dir: string): Promise<JobStore> {
    const lock = `jobs:${resolve(dir)}`;
    return withHostLock(lock, () => new JobStore(openLmdb(dir, STORE_FORMATS.overlordJobs), lock));
  }

  /** One write transaction, under the host lock. */
  #write<T>(what: string, fn: () => T): Promise<T> {
    return withHostLock(this.#lock, () => {
      try {
        return this.#db.transactionSync(() => {
          stampNewStore(this.#db, STORE_FORMATS.overlordJobs);
          return fn();
        });
      } catch (err) {
        throw storeError(err, `job store: ${what}`);
      }
    });
  }

  /** Writes a new job (record, empty bookkeeping, index entry) in one transaction. */
  create(job: JobRecord): Promise<void> {
    return this.#write("create", () => {
      if (this.#db.get(jobKey(job.id)) !== undefined) throw new FuncError("StoreError", `job ${job.id} exists already`);
      void this.#db.put(jobKey(job.id), job);
      void this.#db.put(metaKey(job.id), {});
      void this.#db.put(createdKey(job.created, job.id), true);
    });
  }

  job(id: string): JobRecord | undefined {
    return this.#db.get(jobKey(id)) as JobRecord | undefined;
  }

  meta(id: string): JobMeta {
    return (this.#db.get(metaKey(id)) as JobMeta | undefined) ?? {};
  }

  hostStates(id: string): Record<string, HostState> {
    const out: Record<string, HostState> = {};
    for (const { key, value } of this.#db.getRange({ start: ["job", id, ""], end: ["job", id, HIGH] })) {
      out[(key as [string, string, string])[2]] = value as HostState;
    }
    return out;
  }

  /** Merges `patch` into the job's bookkeeping; returns it as stored. */
  updateMeta(id: string, patch: Partial<JobMeta>): Promise<JobMeta> {
    return this.#write("update meta", () => {
      const meta = { ...((this.#db.get(metaKey(id)) as JobMeta | undefined) ?? {}), ...patch };
      void this.#db.put(metaKey(id), meta);
      return meta;
    });
  }

  /** Records the minion job id of a host. A stored id is never overwritten, and a final host stays final. */
  recordMinionJob(id: string, host: string, minionJobId: string, now = Date.now()): Promise<HostState> {
    return this.#write("record dispatch", () => {
      const cur = this.#db.get(hostKey(id, host)) as HostState | undefined;
      if (cur?.minionJobId !== undefined || cur?.result !== undefined) return cur;
      const next: HostState = { ...cur, minionJobId, updated: now };
      void this.#db.put(hostKey(id, host), next);
      return next;
    });
  }

  /** Records a host's final outcome (keeping its minion job id). The first final outcome stays. */
  recordFinal(id: string, host: string, result: HostResult, now = Date.now()): Promise<HostState> {
    return this.#write("record result", () => {
      const cur = this.#db.get(hostKey(id, host)) as HostState | undefined;
      if (cur?.result !== undefined) return cur;
      const next: HostState = { ...cur, result, updated: now };
      void this.#db.put(hostKey(id, host), next);
      return next;
    });
  }

  /** Records the final outcomes of many hosts in one transaction (each as `recordFinal`: the first final outcome stays). */
  recordFinals(id: string, finals: ReadonlyArray<{ host: string; result: HostResult; at: number }>): Promise<void> {
    return this.#write("record results", () => {
      for (const { host, result, at } of finals) {
        const cur = this.#db.get(hostKey(id, host)) as HostState | undefined;
        if (cur?.result !== undefined) continue;
        void this.#db.put(hostKey(id, host), { ...cur, result, updated: at } satisfies HostState);
      }
    });
  }

  /** Jobs newest first; `before` (a job id) pages on to older ones. Finished jobs are read without their hosts. */
  list(opts: { limit?: number; before?: string } = {}): StoredJob[] {
    let start: Key = ["created", HIGH];
    if (opts.before !== undefined) {
      const ref = this.job(opts.before);
      if (!ref) throw new FuncError("NotFound", `no job ${opts.before}`);
      start = createdKey(ref.created, ref.id);
    }
    const out: StoredJob[] = [];
    for (const key of this.#db.getKeys({ start, end: ["created"], reverse: true, limit: (opts.limit ?? 50) + (opts.before ? 1 : 0) })) {
      const id = (key as [string, number, string])[2];
      if (id === opts.before) continue;
      const job = this.job(id);
      if (!job) continue;
      const meta = this.meta(id);
      out.push({ job, meta, hosts: meta.finished !== undefined ? {} : this.hostStates(id) });
    }
    return out.slice(0, opts.limit ?? 50);
  }

  /** How many jobs the index holds. */
  count(): number {
    return this.#db.getKeysCount({ start: ["created"], end: ["created", HIGH] });
  }

  /**
   * Deletes jobs whose every host was final more than `olderThanS` seconds ago (at most `max` of them);
   * a job with an open host is never touched. Returns how many were deleted.
   */
  async purge(olderThanS: number, now = Date.now(), max = Infinity): Promise<number> {
    const cutoff = now - olderThanS * 1000;
    let purged = 0;
    let from: Key = ["created"];
    while (purged < max) {
      const keys = [...this.#db.getKeys({ start: from, end: ["created", cutoff], limit: WRITE_BATCH })] as [string, number, string][];
      if (keys.length === 0) break;
      const doomed: [string, number, string][] = [];
      for (const key of keys) {
        if (purged + doomed.length >= max) break;
        const id = key[2];
        const meta = this.meta(id);
        let finished = meta.finished;
        if (finished === undefined) {
          const job = this.job(id);
          const state = job ? deriveJobState(job.hosts, this.hostStates(id)) : null;
          if (state && state.status !== "FINISHED") continue;
          finished = state ? state.lastUpdate || key[1] : key[1];
        }
        if (finished < cutoff) doomed.push(key);
      }
      await this.#write("purge", () => {
        for (const key of doomed) {
          const id = key[2];
          for (const host of this.#db.getKeys({ start: ["job", id, ""], end: ["job", id, HIGH] })) void this.#db.remove(host);
          void this.#db.remove(jobKey(id));
          void this.#db.remove(metaKey(id));
          void this.#db.remove(key);
        }
      });
      purged += doomed.length;
      if (keys.length < WRITE_BATCH) break;
      // continue after the last key seen (kept ones stay behind us)
      const last = keys[keys.length - 1]!;
      from = ["created", last[1], last[2] + "\u0000"];
    }
    return purged;
  }

  /**
   * Writes whole jobs that are already over (record, every host's final state and the bookkeeping) in large
   * transactions, `IMPORT_BATCH` jobs each: for jobs that ran elsewhere (a restored or migrated store) and
   * for filling a store quickly. A job id that exists already is refused and nothing of its batch is written.
   */
  async importFinished(jobs: Iterable<FinishedJob>): Promise<number> {
    let written = 0;
    let batch: FinishedJob[] = [];
    const flush = () =>
      this.#write("import", () => {
        for (const { job, hosts, meta } of batch) {
          if (this.#db.get(jobKey(job.id)) !== undefined) throw new FuncError("StoreError", `job ${job.id} exists already`);
          void this.#db.put(jobKey(job.id), job);
          for (const [host, state] of Object.entries(hosts)) void this.#db.put(hostKey(job.id, host), state);
          void this.#db.put(metaKey(job.id), meta);
          void this.#db.put(createdKey(job.created, job.id), true);
        }
        written += batch.length;
        batch = [];
      });
    for (const job of jobs) {
      batch.push(job);
      if (batch.length >= IMPORT_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    return written;
  }

  /** Resolves once every write so far is on disk. */
  flushed(): Promise<void> {
    return Promise.resolve(this.#db.flushed).then(() => undefined);
  }

  async close(): Promise<void> {
    await withHostLock(this.#lock, () => this.#db.close());
  }
}
