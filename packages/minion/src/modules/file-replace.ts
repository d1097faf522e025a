// Replacing a file atomically inside a held directory: the current entry is opened without following links,
// content goes to a temp file created there (O_EXCL, 0600), mode and owner are set on its descriptor, the old
// file is kept as a backup, and one rename puts the new one in place. Used by file.write and the uploads.

import { randomBytes } from "node:crypto";
import { promises as fs, type Stats } from "node:fs";
import { join } from "node:path";
import type { FileHandle } from "node:fs/promises";
import { FuncError, OPEN_CREATE, OPEN_READ, heldPath, inDirectory } from "@func/shared/core";
import type { MinionConfig } from "@func/shared";
import { keepBackup, pruneBackups } from "./file-backup.js";
import { applyMeta, hasMeta, type FileMeta } from "./file-meta.js";
import { recheckDestination, type Destination } from "./file-roots.js";
import { sha256OfHandle } from "./file-hash.js";

/** Temp files the module makes: `.<name>.func-<hex>` beside the target (the uploads journal names them too). */
export const TEMP_NAME_RE = /^\..+\.func-[0-9a-f]{16,64}$/;

export interface Current {
  fh: FileHandle;
  stat: Stats;
}

/** The file now at the destination, opened without following a link; null when there is none. */
export async function openCurrent(dest: Destination): Promise<Current | null> {
  let fh: FileHandle;
  try {
    fh = await fs.open(inDirectory(dest.dir, dest.name), OPEN_READ);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new FuncError("BadArguments", `${dest.shown} changed to a symbolic link while it was opened; try again`);
    throw new FuncError("BadArguments", `cannot open ${dest.shown}: ${code ?? (err as Error).message}`);
  }
  const stat = await fh.stat();
  if (!stat.isFile()) {
    await fh.close();
    throw new FuncError("BadArguments", stat.isDirectory() ? `${dest.shown} is a directory (end the path with / to copy into it)` : `${dest.shown} is not a regular file`);
  }
  return { fh, stat };
}

/**
 * Whether the current file already holds content with this size and SHA-256: then only its metadata is set
 * (on its descriptor) and the answer says nothing was written.
 */
export async function unchanged(current: Current | null, size: number, digest: string, meta: FileMeta): Promise<{ metaChanged: boolean } | null> {
  if (!current || current.stat.size !== size || (await sha256OfHandle(current.fh)) !== digest) return null;
  if (hasMeta(current.stat, meta)) return { metaChanged: false };
  await applyMeta(current.fh, meta);
  return { metaChanged: true };
}

export interface Temp {
  fh: FileHandle;
  name: string;
}

/** A new, empty temp file beside the destination, readable by its owner only until it is installed. */
export async function createTemp(dest: Destination): Promise<Temp> {
  const name = `.${dest.name.slice(0, 200)}.func-${randomBytes(8).toString("hex")}`;
  return { fh: await fs.open(inDirectory(dest.dir, name), OPEN_CREATE, 0o600), name };
}

/** Removes a temp file (best effort: it may be gone already). */
export async function removeTemp(dest: Destination, temp: Temp): Promise<void> {
  await temp.fh.close().catch(() => {});
  await fs.unlink(inDirectory(dest.dir, temp.name)).catch(() => {});
}

/** Free bytes on the file system holding `dest`. */
export async function freeBytes(dest: Destination): Promise<number> {
  const st = await fs.statfs(heldPath(dest.dir));
  return st.bavail * st.bsize;
}

/**
 * Puts the temp file in place: metadata on its descriptor, flushed, the current file kept as a backup (when
 * file_backups allows), then the rename and a flush of the directory. Resolves to the backup's path, if any.
 */
export async function install(config: MinionConfig, dest: Destination, temp: Temp, current: Current | null, meta: FileMeta): Promise<string | null> {
  await applyMeta(temp.fh, meta);
  await temp.fh.sync();
  await temp.fh.close();
  // the directory may have been moved since it was checked: the rename must still land under a root
  await recheckDestination(config, dest);
  const backup = current && config.fileBackups > 0 ? await keepBackup(dest.dir, dest.name) : null;
  await fs.rename(inDirectory(dest.dir, temp.name), inDirectory(dest.dir, dest.name));
  await dest.dir.sync().catch(() => {});
  if (backup) await pruneBackups(dest.dir, dest.name, config.fileBackups);
  return backup ? join(dest.dirPath, backup) : null;
}
