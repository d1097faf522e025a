// Backups of replaced files, named as Func named them: `path.YYYY-MM-DD@HH:MM~` (local time; `.N~` when the
// minute is taken), made by a hard link in the held directory before the rename, and pruned to file_backups.

import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { OPEN_CREATE, OPEN_READ, heldPath, inDirectory } from "@func/shared/core";

/** How many `.N~` names are tried within one minute. */
const MAX_SAME_MINUTE = 100;

function stamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}@${p(now.getHours())}:${p(now.getMinutes())}`;
}

const BACKUP_SUFFIX_RE = /^\.(\d{4}-\d\d-\d\d@\d\d:\d\d)(?:\.(\d+))?~$/;

/** The sort key of a backup of `name` (time, then sequence), or null when `entry` is not one. */
function backupKey(name: string, entry: string): string | null {
  if (!entry.startsWith(name)) return null;
  const m = BACKUP_SUFFIX_RE.exec(entry.slice(name.length));
  return m ? `${m[1]} ${(m[2] ?? "0").padStart(4, "0")}` : null;
}

async function copyInto(dir: FileHandle, from: string, to: string): Promise<void> {
  const src = await fs.open(inDirectory(dir, from), OPEN_READ);
  try {
    const dst = await fs.open(inDirectory(dir, to), OPEN_CREATE, 0o600);
    try {
      const st = await src.stat();
      const buf = Buffer.allocUnsafe(1024 * 1024);
      for (let pos = 0; ; ) {
        const { bytesRead } = await src.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        await dst.write(buf, 0, bytesRead, pos);
        pos += bytesRead;
      }
      await dst.chmod(st.mode & 0o7777);
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/** Keeps the current `name` in `dir` as a backup; resolves to the backup's entry name. */
export async function keepBackup(dir: FileHandle, name: string, now = new Date()): Promise<string> {
  const base = `${name}.${stamp(now)}`;
  for (let n = 0; n < MAX_SAME_MINUTE; n++) {
    const candidate = n === 0 ? `${base}~` : `${base}.${n}~`;
    try {
      await fs.link(inDirectory(dir, name), inDirectory(dir, candidate));
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      // a file system without hard links: a copy does the same
      if (code === "EPERM" || code === "EOPNOTSUPP" || code === "EXDEV" || code === "EMLINK") {
        await copyInto(dir, name, candidate);
        return candidate;
      }
      throw err;
    }
  }
  throw new Error(`${MAX_SAME_MINUTE} backups of ${name} this minute already`);
}

/** Removes the oldest backups of `name` in `dir` beyond `keep`. */
export async function pruneBackups(dir: FileHandle, name: string, keep: number): Promise<void> {
  const entries = await fs.readdir(heldPath(dir));
  const backups = entries
    .map((e) => ({ e, key: backupKey(name, e) }))
    .filter((b): b is { e: string; key: string } => b.key !== null)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { e } of backups.slice(0, Math.max(0, backups.length - keep))) {
    await fs.unlink(inDirectory(dir, e)).catch(() => {});
  }
}
