// The runner's files under run/: `<id>.job.json`, what to run (written by funcd before it starts the runner),
// and `<id>.result.json`, what came of it (written by the runner, on disk before it exits). Only funcd opens
// the LMDB store: it moves each result from here into the store. lmdb-js loses or corrupts transactions when
// many short-lived processes open one store while another writes it, so runners never do.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { MinionConfig, WireValue } from "@func/shared";
import { JOB_STATUS } from "@func/shared/core";
import type { MinionJob } from "./minion-job-store.js";

/** What a runner needs: the call, who made it (as the job store records them), and funcd's settings. */
export interface SpooledJob extends Pick<MinionJob, "id" | "method" | "args" | "peerCn" | "peerRole" | "address"> {
  config: MinionConfig;
}

export interface SpooledResult {
  status: typeof JOB_STATUS.FINISHED | typeof JOB_STATUS.REMOTE_ERROR;
  result: WireValue;
}

/** Bytes that are not text travel in the JSON files as `{"$bytes": base64}`. */
const BYTES_TAG = "$bytes";

function encode(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { [BYTES_TAG]: value.toString("base64") };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encode(v);
    return out;
  }
  return value;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === BYTES_TAG && typeof entries[0]![1] === "string") return Buffer.from(entries[0]![1], "base64");
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) out[k] = decode(v);
    return out;
  }
  return value;
}

const jobFile = (runDir: string, id: string) => join(runDir, `${id}.job.json`);
const resultFile = (runDir: string, id: string) => join(runDir, `${id}.result.json`);

/**
 * Writes `file` whole or not at all: a temp file, fsync, rename, then fsync of the directory. Only funcd
 * creates the directory: a runner whose minion home was removed meanwhile must not bring it back.
 */
function writeDurably(file: string, data: string, createDir: boolean): void {
  const dir = join(file, "..");
  if (createDir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return decode(JSON.parse(text));
}

export function writeJobFile(runDir: string, job: SpooledJob): void {
  writeDurably(jobFile(runDir, job.id), JSON.stringify(encode(job)), true);
}

export function readJobFile(runDir: string, id: string): SpooledJob | undefined {
  return readJson(jobFile(runDir, id)) as SpooledJob | undefined;
}

export function writeResultFile(runDir: string, id: string, result: SpooledResult): void {
  writeDurably(resultFile(runDir, id), JSON.stringify(encode(result)), false);
}

/** The runner's result, or undefined while there is none (a damaged file counts as none: the job is then lost). */
export function readResultFile(runDir: string, id: string): SpooledResult | undefined {
  try {
    const r = readJson(resultFile(runDir, id)) as SpooledResult | undefined;
    return r && (r.status === JOB_STATUS.FINISHED || r.status === JOB_STATUS.REMOTE_ERROR) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Removes both files of a job (once its result is in the store, or it is abandoned or purged). */
export function removeSpool(runDir: string, id: string): void {
  rmSync(jobFile(runDir, id), { force: true });
  rmSync(resultFile(runDir, id), { force: true });
}
