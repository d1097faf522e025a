// Test and bench helper: finished synthetic jobs, generated lazily for JobStore.importFinished, so a test
// or the job-store benchmark can fill a store with many jobs fast (what a long-used overlord accumulates).

import { emptySummary, newJobId } from "@func/shared";
import type { FinishedJob, JobStore } from "@func/overlord/job-store";

/** Hex digits of a job id's random suffix, and how many suffixes there are. */
const SUFFIX_HEX = 10;
const SUFFIX_SPACE = 16 ** SUFFIX_HEX;

export interface SyntheticOptions {
  /** hosts per job (default 1) */
  hostsPerJob?: number;
  /** creation time of the first job, epoch ms (default: `count` ms before now); each next one is 1 ms later */
  startMs?: number;
}

/** `count` finished `test.ping` jobs, oldest first, 1 ms apart, each host `ok`. Ids are pushed into `ids`. */
export function* syntheticJobs(count: number, ids: string[], opts: SyntheticOptions = {}): Generator<FinishedJob> {
  const perJob = Math.max(1, opts.hostsPerJob ?? 1);
  const start = opts.startMs ?? Date.now() - count;
  const hosts = Array.from({ length: perJob }, (_, h) => `synthetic${String(h + 1).padStart(3, "0")}`);
  const summary = { ...emptySummary(), ok: perJob };
  // one random suffix counted up, not one random draw per job (a third of the time of a million inserts)
  const suffix = parseInt(newJobId().slice(-SUFFIX_HEX), 16);
  let stampSecond = NaN;
  let stamp = "";
  for (let i = 0; i < count; i++) {
    const created = start + i;
    // the time part changes once a second: take it from a real id then
    const second = Math.floor(created / 1000);
    if (second !== stampSecond) [stampSecond, stamp] = [second, newJobId(new Date(created)).slice(0, -SUFFIX_HEX)];
    const id = stamp + ((suffix + i) % SUFFIX_SPACE).toString(16).padStart(SUFFIX_HEX, "0");
    ids.push(id);
    yield {
      job: { id, spec: "synthetic*", module: "test", method: "ping", args: [], created, deadline: created + 86_400_000, hosts, dispatch: { forks: 1, concurrency: 1, timeoutMs: 30_000 } },
      hosts: Object.fromEntries(hosts.map((h) => [h, { minionJobId: id, result: { outcome: "ok", value: 1 }, updated: created }])),
      meta: { dispatchDone: true, finished: created, summary },
    };
  }
}

/** Fills `store` with `count` synthetic finished jobs; returns their ids, oldest first. */
export async function seedSynthetic(store: JobStore, count: number, opts: SyntheticOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  await store.importFinished(syntheticJobs(count, ids, opts));
  return ids;
}
