// Async workload: one Overlord submits `test.sleep 0` as an async job to every host of SPEC and waits for
// every result (polling every INTERVAL ms). Usage: node async-jobs.mjs HOME SPEC [INTERVAL]; prints
// {"hosts","ok","submitMs","collectMs"}: submitMs until the job id is back, collectMs until every host is final.

import { Overlord } from "@func/overlord";

const [home, spec, interval = "100"] = process.argv.slice(2);
const overlord = new Overlord(spec, { home });
const started = performance.now();
const id = await overlord.callAsync("test", "sleep", [0]);
const submitMs = performance.now() - started;
const status = await overlord.waitJob(id, { intervalMs: Number(interval), timeoutMs: 120_000 });
const collectMs = performance.now() - started;
await overlord.close();
const ok = Object.values(status.hosts).filter((h) => h.outcome === "ok").length;
process.stdout.write(JSON.stringify({ id, hosts: status.total, ok, submitMs, collectMs }) + "\n");
