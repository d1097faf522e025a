// Recorded sync runs on their way into the job store: `func` writes a finished run as one JSON file in the
// spool (a few ms for 1000 hosts, no LMDB loaded), and whoever opens the store next imports the spooled runs
// (one transaction) and removes them. Sync runs stay cheap; every query still sees every run. Each file
// carries its format version (`format`); one newer than this func's is refused and left in the spool.

import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  FORMAT_FIELD,
  FuncError,
  KEY_FILE_MODE,
  PRIVATE_DIR_MODE,
  STORE_FORMATS,
  checkFileFormat,
  emptySummary,
  isJobId,
  newJobId,
  writeFileAtomic,
  type HostResult,
} from "@func/shared";
import type { DispatchSettings, JobRecord } from "./job-state.js";
import type { FinishedJob, JobStore } from "./job-store.js";

const SUFFIX = ".json";

/** The spool beside the store: `<state>/jobs-spool`. */
export function spoolDir(jobsDir: string): string {
  return `${jobsDir}-spool`;
}

/** Spooled runs are waiting (a query must open the store to see them). */
export function spoolWaiting(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.endsWith(SUFFIX));
  } catch {
    return false;
  }
}

/** Writes one finished run to the spool; resolves to its job id. */
export function spoolRun(
  dir: string,
  run: { spec: string; module: string; method: string; args: readonly unknown[]; results: Readonly<Record<string, HostResult>>; dispatch: DispatchSettings },
): string {
  const now = Date.now();
  const id = newJobId(new Date(now));
  const hosts = Object.keys(run.results).sort();
  const job: JobRecord = { id, spec: run.spec, module: run.module, method: run.method, args: [...run.args], created: now, deadline: now, hosts, dispatch: run.dispatch };
  const summary = emptySummary();
  for (const h of hosts) summary[run.results[h]!.outcome] += 1;
  const finished: FinishedJob = {
    job,
    hosts: Object.fromEntries(hosts.map((h) => [h, { result: run.results[h]!, updated: now }])),
    meta: { dispatchDone: true, finished: now, summary },
  };
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // results may hold what the minions' commands printed: owner-only, as the store is
  writeFileAtomic(join(dir, id + SUFFIX), JSON.stringify({ [FORMAT_FIELD]: STORE_FORMATS.runSpool.version, ...finished }), KEY_FILE_MODE);
  return id;
}

/** Bytes in a result (JSON writes a Buffer as `{type: "Buffer", data: [...]}`) come back as a Buffer. */
function reviveBuffers(_key: string, value: unknown): unknown {
  const v = value as { type?: unknown; data?: unknown } | null;
  return v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data) && Object.keys(v).length === 2 ? Buffer.from(v.data as number[]) : value;
}

/**
 * Imports every spooled run into the store and removes its file; a run already imported (by a racing process)
 * is just removed. A run in a newer format than this func's stops the drain with a ConfigError naming it.
 */
export async function drainSpool(dir: string, store: JobStore): Promise<number> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(SUFFIX) && isJobId(f.slice(0, -SUFFIX.length))).sort();
  } catch {
    return 0;
  }
  let imported = 0;
  for (const f of files) {
    const file = join(dir, f);
    let parsed: FinishedJob & { [FORMAT_FIELD]?: unknown };
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"), reviveBuffers) as FinishedJob;
    } catch {
      continue; // gone meanwhile (another process imported it)
    }
    checkFileFormat(STORE_FORMATS.runSpool, file, parsed);
    const { [FORMAT_FIELD]: _format, ...run } = parsed;
    if (store.job(run.job.id) === undefined) {
      try {
        imported += await store.importFinished([run]);
      } catch (err) {
        if (!(err instanceof FuncError && /exists already/.test(err.message))) throw err;
      }
    }
    rmSync(file, { force: true });
  }
  return imported;
}
