// The minion's job store (LMDB under minion-jobs/): one record per async job, the idempotency map
// (overlord job id, peer CN, method) -> job id, and indexes of running and finished jobs for the cap and
// the retention purge. Only funcd opens it (runners hand results over through job-spool.ts); every
// read-modify-write still runs inside one `transactionSync`.

import type { Key, RootDatabase } from "lmdb";
import { JOB_STATUS, STORE_FORMATS, type WireValue } from "@func/shared";
import { openLmdb, stampNewStore, storeError } from "@func/shared/lmdb-store";
import { OVERLORD_ROLE } from "../acl.js";

/** Codes a minion record can hold (PARTIAL is the overlord's). */
export type MinionJobCode = typeof JOB_STATUS.RUNNING | typeof JOB_STATUS.FINISHED | typeof JOB_STATUS.LOST_IN_SPACE | typeof JOB_STATUS.REMOTE_ERROR;

export interface MinionJob {
  id: string;
  /** `module.method`, without the `async.` prefix */
  method: string;
  args: WireValue[];
  peerCn: string;
  peerRole: string | null;
  address: string;
  /** epoch ms */
  created: number;
  status: MinionJobCode;
  /** the runner's pid, once spawned */
  pid?: number;
  /** epoch ms when it reached a final status */
  finished?: number;
  /** FINISHED: the value; REMOTE_ERROR: {faultCode, faultString}; LOST_IN_SPACE: {reason} */
  result?: WireValue;
  /** the overlord job id it was started for (the idempotency key), when one was sent */
  overlordJob?: string;
}

/** Why a job could not start: every slot taken, this identity's share, or the part others may use. */
export type FullReason = "total" | "identity" | "unreserved";
export type BeginResult = { id: string; existing: boolean } | { full: number; reason: FullReason };

/** The async cap and its shares (issue 10 item 11): a plain number is the total cap alone. */
export interface JobCaps {
  total: number;
  /** most running jobs of one identity that is not privileged */
  perIdentity?: number;
  /** slots only privileged identities (the overlord) may take */
  reserved?: number;
  /** the new job's caller is privileged: only the total applies to it */
  privileged?: boolean;
}

/** Jobs deleted per write transaction by a purge: keeps the write lock short for the other processes. */
const PURGE_BATCH = 1000;
/** Largest `list` answer. */
export const MAX_LIST = 10_000;
/** Upper bound for string keys in a range (every id and name is ASCII). */
const HIGH = "\uffff";

const jobKey = (id: string): Key => ["job", id];
const runningKey = (id: string): Key => ["running", id];
const finishedKey = (t: number, id: string): Key => ["finished", t, id];
const idemKey = (key: string, cn: string, method: string): Key => ["idem", key, cn, method];

export class MinionJobStore {
  readonly #db: RootDatabase<unknown, Key>;

  constructor(dir: string) {
    this.#db = openLmdb(dir, STORE_FORMATS.minionJobs);
  }

  #sync<T>(what: string, fn: () => T): T {
    try {
      return this.#db.transactionSync(() => {
        stampNewStore(this.#db, STORE_FORMATS.minionJobs);
        return fn();
      });
    } catch (err) {
      throw storeError(err, `job store: ${what}`);
    }
  }

  /**
   * Records a new RUNNING job, atomically with its idempotency entry: a repeat of (key, peer CN, method)
   * returns the existing job instead. With `cap` jobs already running nothing is written.
   */
  begin(job: MinionJob, cap: number | JobCaps): BeginResult {
    const caps: JobCaps = typeof cap === "number" ? { total: cap, privileged: true } : cap;
    return this.#sync("begin", () => {
      const idem = job.overlordJob !== undefined ? idemKey(job.overlordJob, job.peerCn, job.method) : undefined;
      if (idem) {
        const existing = this.#db.get(idem);
        if (typeof existing === "string" && this.#db.get(jobKey(existing)) !== undefined) return { id: existing, existing: true };
      }
      const running = this.#db.getKeysCount({ start: ["running"], end: ["running", HIGH] });
      if (running >= caps.total) return { full: running, reason: "total" };
      if (!caps.privileged) {
        // at most max_async_jobs entries: counting them by caller is cheap
        let mine = 0;
        let unprivileged = 0;
        for (const key of this.#db.getKeys({ start: ["running"], end: ["running", HIGH] })) {
          const other = this.#db.get(jobKey((key as [string, string])[1])) as MinionJob | undefined;
          if (other?.peerRole !== OVERLORD_ROLE) unprivileged++;
          if (other?.peerCn === job.peerCn) mine++;
        }
        if (caps.perIdentity !== undefined && mine >= caps.perIdentity) return { full: mine, reason: "identity" };
        if (caps.reserved !== undefined && unprivileged >= caps.total - caps.reserved) return { full: unprivileged, reason: "unreserved" };
      }
      void this.#db.put(jobKey(job.id), job);
      void this.#db.put(runningKey(job.id), true);
      if (idem) void this.#db.put(idem, job.id);
      return { id: job.id, existing: false };
    });
  }

  /** Removes a job whose runner could not be started (and its idempotency entry, so a retry may start it). */
  abandon(id: string): void {
    this.#sync("abandon", () => {
      const job = this.#db.get(jobKey(id)) as MinionJob | undefined;
      if (job?.overlordJob !== undefined) void this.#db.remove(idemKey(job.overlordJob, job.peerCn, job.method));
      void this.#db.remove(jobKey(id));
      void this.#db.remove(runningKey(id));
    });
  }

  /** Records the runner's pid, unless the job already ended (a fast runner may beat funcd to it). */
  setPid(id: string, pid: number): void {
    this.#sync("set pid", () => {
      const job = this.#db.get(jobKey(id)) as MinionJob | undefined;
      if (job && job.status === JOB_STATUS.RUNNING && job.pid === undefined) void this.#db.put(jobKey(id), { ...job, pid });
    });
  }

  get(id: string): MinionJob | undefined {
    try {
      return this.#db.get(jobKey(id)) as MinionJob | undefined;
    } catch (err) {
      throw storeError(err, "job store: read");
    }
  }

  /**
   * Moves a RUNNING job to its final status (FINISHED, REMOTE_ERROR or LOST_IN_SPACE). The first final status
   * written stays: `changed` is false when the job had already ended. `job` is the record as it now stands.
   */
  finish(id: string, status: Exclude<MinionJobCode, 0>, result: WireValue, now = Date.now()): { changed: boolean; job: MinionJob | undefined } {
    return this.#sync("finish", () => {
      const job = this.#db.get(jobKey(id)) as MinionJob | undefined;
      if (!job || job.status !== JOB_STATUS.RUNNING) return { changed: false, job };
      const done: MinionJob = { ...job, status, result, finished: now };
      void this.#db.put(jobKey(id), done);
      void this.#db.remove(runningKey(id));
      void this.#db.put(finishedKey(now, id), true);
      return { changed: true, job: done };
    });
  }

  runningIds(): string[] {
    return [...this.#db.getKeys({ start: ["running"], end: ["running", HIGH] })].map((k) => (k as [string, string])[1]);
  }

  /** Records newest first, without their results. */
  list(limit = MAX_LIST): Omit<MinionJob, "result">[] {
    const out: Omit<MinionJob, "result">[] = [];
    for (const { value } of this.#db.getRange({ start: ["job", HIGH], end: ["job"], reverse: true, limit })) {
      const { result: _result, ...rest } = value as MinionJob;
      out.push(rest);
    }
    return out;
  }

  /** Deletes jobs that ended more than `olderThanS` seconds ago; running jobs are never touched. */
  purge(olderThanS: number, now = Date.now()): number {
    const cutoff = now - olderThanS * 1000;
    let purged = 0;
    while (true) {
      const keys = [...this.#db.getKeys({ start: ["finished"], end: ["finished", cutoff], limit: PURGE_BATCH })] as [string, number, string][];
      if (keys.length === 0) return purged;
      this.#sync("purge", () => {
        for (const key of keys) {
          const id = key[2];
          const job = this.#db.get(jobKey(id)) as MinionJob | undefined;
          void this.#db.remove(key);
          if (!job || job.status === JOB_STATUS.RUNNING) continue;
          if (job.overlordJob !== undefined) void this.#db.remove(idemKey(job.overlordJob, job.peerCn, job.method));
          void this.#db.remove(jobKey(id));
          purged += 1;
        }
      });
      if (keys.length < PURGE_BATCH) return purged;
    }
  }

  /** Resolves once every write so far is on disk. */
  flushed(): Promise<void> {
    return Promise.resolve(this.#db.flushed).then(() => undefined);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
