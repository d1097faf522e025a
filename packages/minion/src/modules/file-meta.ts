// The mode and owner a written file gets: what the caller asked for, checked against file_max_mode (no
// setuid/setgid/sticky unless configured), else what the replaced file had. Applied on the open descriptor.

import { execFile } from "node:child_process";
import type { Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FuncError } from "@func/shared/core";
import type { MinionConfig, WireValue } from "@func/shared";

/** Mode of a new file when the caller names none. */
const DEFAULT_FILE_MODE = 0o644;
/** User and group names as the system tools accept them. */
const ACCOUNT_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
/** How long a name lookup (getent) may take, ms. */
const LOOKUP_TIMEOUT_MS = 5000;

export interface FileMeta {
  mode: number;
  /** undefined: leave as created */
  uid?: number;
  gid?: number;
}

function lookup(db: "passwd" | "group", name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("getent", [db, name], { timeout: LOOKUP_TIMEOUT_MS }, (err, stdout) => {
      const id = Number(stdout.split(":")[2]);
      if (err || !Number.isInteger(id)) reject(new FuncError("BadArguments", `no ${db === "passwd" ? "user" : "group"} named ${name} on this minion`));
      else resolve(id);
    });
  });
}

async function accountId(value: WireValue | undefined, db: "passwd" | "group", field: string): Promise<number | undefined> {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 0xfffffffe) throw new FuncError("BadArguments", `options.${field} must be an id >= 0 or a name`);
    return value;
  }
  if (typeof value !== "string" || !ACCOUNT_NAME_RE.test(value)) throw new FuncError("BadArguments", `options.${field} must be an id or a ${db === "passwd" ? "user" : "group"} name`);
  return /^\d+$/.test(value) ? Number(value) : lookup(db, value);
}

/** The options a write accepts: {mode, owner, group}; anything else is refused. */
export async function fileMeta(config: MinionConfig, options: WireValue | undefined, current: Stats | null): Promise<FileMeta> {
  const opts = options ?? {};
  if (typeof opts !== "object" || Array.isArray(opts) || Buffer.isBuffer(opts) || opts === null) throw new FuncError("BadArguments", "options must be a struct {mode, owner, group}");
  for (const key of Object.keys(opts)) {
    if (!["mode", "owner", "group"].includes(key)) throw new FuncError("BadArguments", `unknown option ${JSON.stringify(key.slice(0, 40))} (options: mode, owner, group)`);
  }
  let mode: number;
  if (opts.mode === undefined || opts.mode === null) {
    mode = current ? current.mode & 0o7777 & config.fileMaxMode : DEFAULT_FILE_MODE;
  } else {
    if (typeof opts.mode !== "number" || !Number.isInteger(opts.mode) || opts.mode < 0 || opts.mode > 0o7777) throw new FuncError("BadArguments", "options.mode must be 0..0o7777");
    if ((opts.mode & ~config.fileMaxMode) !== 0) {
      throw new FuncError("AccessDenied", `mode 0${opts.mode.toString(8)} has bits beyond file_max_mode 0${config.fileMaxMode.toString(8)} (minion.conf)`);
    }
    mode = opts.mode;
  }
  const uid = await accountId(opts.owner, "passwd", "owner");
  const gid = await accountId(opts.group, "group", "group");
  // a replaced file keeps its owner when this minion may give it (root); otherwise the new file is funcd's
  const keep = current && process.getuid?.() === 0;
  return {
    mode,
    ...(uid !== undefined ? { uid } : keep ? { uid: current.uid } : {}),
    ...(gid !== undefined ? { gid } : keep ? { gid: current.gid } : {}),
  };
}

/** Whether `st` already has `meta`. */
export function hasMeta(st: Stats, meta: FileMeta): boolean {
  return (st.mode & 0o7777) === meta.mode && (meta.uid === undefined || st.uid === meta.uid) && (meta.gid === undefined || st.gid === meta.gid);
}

/** Sets `meta` on the open file (never through a path): owner first, since chown clears setuid bits. */
export async function applyMeta(fh: FileHandle, meta: FileMeta): Promise<void> {
  if (meta.uid !== undefined || meta.gid !== undefined) {
    const st = await fh.stat();
    try {
      await fh.chown(meta.uid ?? st.uid, meta.gid ?? st.gid);
    } catch (err) {
      throw new FuncError("AccessDenied", `cannot give the file owner ${meta.uid ?? st.uid}:${meta.gid ?? st.gid}: ${(err as Error).message}`);
    }
  }
  await fh.chmod(meta.mode);
}
