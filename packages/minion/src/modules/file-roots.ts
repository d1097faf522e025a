// Where the `file` module may reach (minion.conf file_roots), checked on what is really opened: a path is
// resolved and checked, then opened, and the opened descriptor's own path is checked again (a directory swapped
// for a symlink in between is caught). Writers get the parent directory held open and work inside it by name.

import { constants, promises as fs, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve, sep } from "node:path";
import { FuncError, OPEN_DIRECTORY, OPEN_READ, descriptorPath, isEntryName } from "@func/shared/core";
import type { MinionConfig } from "@func/shared";

/** Longest path accepted (Linux PATH_MAX). */
const MAX_PATH = 4096;

export function within(path: string, root: string): boolean {
  return root === sep || path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function realRoots(config: MinionConfig): Promise<string[]> {
  const out: string[] = [];
  for (const r of config.fileRoots) {
    try {
      out.push(await fs.realpath(r));
    } catch {
      // a root that does not exist allows nothing
    }
  }
  return out;
}

/** A path argument: absolute, no NUL, at most PATH_MAX. */
export function pathArg(raw: unknown, what = "path"): string {
  if (typeof raw !== "string" || raw === "" || raw.includes("\0") || !isAbsolute(raw) || raw.length > MAX_PATH) {
    throw new FuncError("BadArguments", `${what} must be an absolute path without NUL characters`);
  }
  return raw;
}

function outside(config: MinionConfig, shown: string): FuncError {
  return new FuncError("AccessDenied", `${shown} is outside the allowed roots (file_roots: ${config.fileRoots.join(", ")})`);
}

/** Throws AccessDenied unless the descriptor's real path lies under a root. */
async function checkHeld(config: MinionConfig, fh: FileHandle, shown: string): Promise<string> {
  const held = await descriptorPath(fh.fd);
  if (!(await realRoots(config)).some((root) => within(held, root))) throw outside(config, shown);
  return held;
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? "";
}

export interface OpenedFile {
  fh: FileHandle;
  /** the real path it was opened at */
  path: string;
  stat: Stats;
}

async function checkedRealPath(config: MinionConfig, raw: unknown): Promise<{ abs: string; real: string }> {
  const abs = resolve(pathArg(raw));
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    throw new FuncError("BadArguments", `${abs}: no such file`);
  }
  if (!(await realRoots(config)).some((root) => within(real, root))) throw outside(config, abs);
  return { abs, real };
}

/** Opens `real` (checked already) and checks the descriptor again; closes it on any failure. */
async function openHeld(config: MinionConfig, abs: string, real: string, flags: number): Promise<OpenedFile> {
  let fh: FileHandle;
  try {
    fh = await fs.open(real, flags);
  } catch (err) {
    // ELOOP / ENOTDIR / ENOENT: it changed between the check and the open
    throw new FuncError("BadArguments", `${abs} changed while it was opened (${errno(err) || "error"}); try again`);
  }
  try {
    const path = await checkHeld(config, fh, abs);
    return { fh, path, stat: await fh.stat() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Opens an existing regular file under the roots for reading. The type is checked on the path before opening
 * (a FIFO or device is never opened: that can block or act) and on the descriptor after (in case it changed).
 */
export async function openExisting(config: MinionConfig, raw: unknown): Promise<OpenedFile> {
  const { abs, real } = await checkedRealPath(config, raw);
  if (!(await fs.lstat(real)).isFile()) throw new FuncError("BadArguments", `${abs} is not a regular file`);
  const opened = await openHeld(config, abs, real, OPEN_READ);
  if (!opened.stat.isFile()) {
    await opened.fh.close();
    throw new FuncError("BadArguments", `${abs} is not a regular file`);
  }
  return opened;
}

/** The metadata of a path under the roots: files and directories from the opened descriptor, others from the path. */
export async function statChecked(config: MinionConfig, raw: unknown): Promise<Stats> {
  const { abs, real } = await checkedRealPath(config, raw);
  const before = await fs.lstat(real);
  // a FIFO, socket or device is described from the path, never opened
  if (!before.isFile() && !before.isDirectory()) return before;
  const opened = await openHeld(config, abs, real, OPEN_READ | (before.isDirectory() ? constants.O_DIRECTORY : 0));
  await opened.fh.close();
  return opened.stat;
}

export interface Destination {
  /** the directory the file goes into, held open */
  dir: FileHandle;
  /** its real path when opened */
  dirPath: string;
  /** the entry name inside it */
  name: string;
  /** the path as the caller gave it (resolved), for messages */
  shown: string;
}

/**
 * The directory a file is written into, opened and checked: `raw` names the file (a final symlink is followed
 * to its target, which must be under a root too); its directory must exist. The caller closes `dir`.
 */
export async function openDestination(config: MinionConfig, raw: unknown): Promise<Destination> {
  const given = pathArg(raw);
  if (given.endsWith(sep)) throw new FuncError("BadArguments", `${given} names a directory: give the file's name too`);
  const abs = resolve(given);
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    try {
      real = resolve(await fs.realpath(dirname(abs)), basename(abs));
    } catch {
      throw new FuncError("BadArguments", `directory ${dirname(abs)} does not exist (create it first)`);
    }
  }
  const name = basename(real);
  if (!isEntryName(name)) throw new FuncError("BadArguments", `${abs} is not a file path`);
  if (!(await realRoots(config)).some((root) => within(real, root))) throw outside(config, abs);
  let dir: FileHandle;
  try {
    dir = await fs.open(dirname(real), OPEN_DIRECTORY);
  } catch (err) {
    const code = errno(err);
    if (code === "ENOTDIR") throw new FuncError("BadArguments", `${dirname(abs)} is not a directory`);
    throw new FuncError("BadArguments", `directory ${dirname(abs)} changed while it was opened (${code || "error"}); try again`);
  }
  try {
    const dirPath = await checkHeld(config, dir, abs);
    return { dir, dirPath, name, shown: abs };
  } catch (err) {
    await dir.close();
    throw err;
  }
}

/** Checks again, just before a rename, that the held directory is still under a root (it may have moved). */
export async function recheckDestination(config: MinionConfig, dest: Destination): Promise<void> {
  await checkHeld(config, dest.dir, dest.shown);
}
