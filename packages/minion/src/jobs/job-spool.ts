// The runner's files under run/: `<id>.job.json`, what to run (written by funcd before it starts the runner),
// and `<id>.result.json`, what came of it (written by the runner, on disk before it exits). Only funcd opens
// the LMDB store: it moves each result from here into the store. lmdb-js loses or corrupts transactions when
// many short-lived processes open one store while another writes it, so runners never do. Each file carries
// its format version (`format`, none before versions: 1): a runner and funcd of different installs may meet
// here during an upgrade, and a file newer than this code is refused, left where it is.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { MinionConfig, WireValue } from "@func/shared";
import { FORMAT_FIELD, FuncError, JOB_STATUS, STORE_FORMATS, checkFileFormat } from "@func/shared/core";
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

/** A spool file's text, or undefined when there is none. */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A spool file's record without its format field; a format newer than this code's is a ConfigError. */
function readRecord(file: string, text: string): Record<string, unknown> {
  const parsed = JSON.parse(text) as unknown;
  checkFileFormat(STORE_FORMATS.jobSpool, file, parsed);
  const { [FORMAT_FIELD]: _format, ...rest } = decode(parsed) as Record<string, unknown>;
  return rest;
}

function writeRecord(file: string, record: object, createDir: boolean): void {
  writeDurably(file, JSON.stringify({ [FORMAT_FIELD]: STORE_FORMATS.jobSpool.version, ...(encode(record) as object) }), createDir);
}

export function writeJobFile(runDir: string, job: SpooledJob): void {
  writeRecord(jobFile(runDir, job.id), job, true);
}

/** What to run, or undefined when there is no job file; one in a newer format is a ConfigError naming it. */
export function readJobFile(runDir: string, id: string): SpooledJob | undefined {
  const file = jobFile(runDir, id);
  const text = readText(file);
  return text === undefined ? undefined : (readRecord(file, text) as unknown as SpooledJob);
}

export function writeResultFile(runDir: string, id: string, result: SpooledResult): void {
  writeRecord(resultFile(runDir, id), result, false);
}

/**
 * The runner's result, or undefined while there is none (a damaged file counts as none: the job is then lost).
 * A result in a newer format than this funcd's is a ConfigError naming the file, which is left as it is.
 */
export function readResultFile(runDir: string, id: string): SpooledResult | undefined {
  const file = resultFile(runDir, id);
  let text: string | undefined;
  try {
    text = readText(file);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  let r: Record<string, unknown>;
  try {
    r = readRecord(file, text);
  } catch (err) {
    if (err instanceof FuncError && err.type === "ConfigError") throw err;
    return undefined;
  }
  return r.status === JOB_STATUS.FINISHED || r.status === JOB_STATUS.REMOTE_ERROR ? (r as unknown as SpooledResult) : undefined;
}

/** Removes both files of a job (once its result is in the store, or it is abandoned or purged). */
export function removeSpool(runDir: string, id: string): void {
  rmSync(jobFile(runDir, id), { force: true });
  rmSync(resultFile(runDir, id), { force: true });
}
