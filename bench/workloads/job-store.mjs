// Job-store workload on the overlord's LMDB store, through its own API, in phases (each a fresh process):
//   seed DIR COUNT      imports COUNT synthetic finished jobs (importFinished: large transactions); prints {insertMs, ids}
//   query DIR IDS.json  newest 50 and status lookups, first and repeated; prints {listMs, lookupMs, ...}
//   purge DIR COUNT     deletes the COUNT oldest finished jobs; prints {purgeMs, purged, left}

import { readFileSync } from "node:fs";
import { JobStore } from "@func/overlord/job-store";
import { seedSynthetic } from "../../test/dist/helpers/synthetic-jobs.js";

/** Status lookups timed in the query phase (random ids among the seeded ones). */
const LOOKUPS = 1000;
/** Repeats of `newest 50` in the query phase. */
const LISTS = 20;

const [phase, dir, arg] = process.argv.slice(2);
const store = await JobStore.open(dir);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let out;
if (phase === "seed") {
  const count = Number(arg);
  const t0 = performance.now();
  const ids = await seedSynthetic(store, count);
  await store.flushed();
  const insertMs = performance.now() - t0;
  // a sample of ids for the lookups, spread over the whole store
  const sample = Array.from({ length: Math.min(LOOKUPS, ids.length) }, (_, i) => ids[Math.floor((i * ids.length) / Math.min(LOOKUPS, ids.length))]);
  out = { count, insertMs, perSecond: (count / insertMs) * 1000, ids: sample };
} else if (phase === "query") {
  const ids = JSON.parse(readFileSync(arg, "utf8"));
  const time = (fn) => {
    const t = performance.now();
    const r = fn();
    return [performance.now() - t, r];
  };
  const [firstListMs, first] = time(() => store.list({ limit: 50 }));
  const lists = Array.from({ length: LISTS }, () => time(() => store.list({ limit: 50 }))[0]);
  // what a status report of a finished job reads: the record, its bookkeeping, its hosts
  const lookup = (id) => [store.job(id), store.meta(id), store.hostStates(id)];
  const [firstLookupMs] = time(() => lookup(ids[0]));
  const lookups = ids.map((id) => time(() => lookup(id))[0]);
  out = { listed: first.length, firstListMs, listMs: median(lists), firstLookupMs, lookupMs: median(lookups), lookupMaxMs: Math.max(...lookups), count: store.count() };
} else if (phase === "purge") {
  const t0 = performance.now();
  const purged = await store.purge(0, Date.now(), Number(arg));
  await store.flushed();
  out = { purgeMs: performance.now() - t0, purged, left: store.count() };
} else {
  throw new Error(`unknown phase ${phase}`);
}
await store.close();
process.stdout.write(JSON.stringify(out) + "\n");
