// Chunked uploads (copyfile of any size): begin names the file, its size and SHA-256 under an id the caller
// picks, chunks arrive at their offsets (a few at once: the caller pipelines them; never overlapping) into a
// temp file beside the target, commit checks that every byte came and the hash, and installs it. An upload with no chunk for upload_expiry seconds is dropped; a journal in the home's run/ directory
// names every temp file, so one left by a funcd that died is removed when the next one starts.

import { createHash, type Hash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { FuncError, OPEN_DIRECTORY, descriptorPath, inDirectory } from "@func/shared/core";
import type { HomePaths, MinionConfig, WireValue } from "@func/shared";
import type { CallContext } from "../registry.js";
import { fileMeta, type FileMeta } from "./file-meta.js";
import { hashRange, isSha256Hex } from "./file-hash.js";
import { openDestination, within, type Destination } from "./file-roots.js";
import { TEMP_NAME_RE, createTemp, freeBytes, install, openCurrent, removeTemp, unchanged, type Current, type Temp } from "./file-replace.js";

/** Upload ids: the caller's, shell- and file-name-safe. */
const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;
/** Largest chunk accepted, bytes; also bounded by what fits in one request (max_body_bytes, base64). */
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes of a request that are not the chunk itself (envelope, id, offset). */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

interface Upload {
  id: string;
  /** the caller that began it: only it may continue it */
  peerCn: string;
  dest: Destination;
  temp: Temp;
  current: Current | null;
  size: number;
  sha256: string;
  meta: FileMeta;
  received: number;
  /** the bytes that came, as sorted, merged [start, end) ranges */
  ranges: [number, number][];
  hash: Hash;
  /** the bytes before this are in `hash` (chunks that came in order are hashed as they come) */
  hashedTo: number;
  /** chunks being written now */
  writing: number;
  /** the commit runs, or the upload was dropped */
  closed: boolean;
  timer?: NodeJS.Timeout;
  journal: string;
}

/** One table per minion home: a funcd process may serve several homes. */
const TABLES = new Map<string, Map<string, Upload>>();

function table(paths: HomePaths): Map<string, Upload> {
  let t = TABLES.get(paths.runDir);
  if (!t) TABLES.set(paths.runDir, (t = new Map()));
  return t;
}

function journalDir(paths: HomePaths): string {
  return join(paths.runDir, "uploads");
}

/** The largest chunk this minion takes in one call. */
export function chunkLimit(config: MinionConfig): number {
  const fits = Math.floor(((config.maxBodyBytes - REQUEST_OVERHEAD_BYTES) * 3) / 4);
  return Math.max(4096, Math.min(MAX_CHUNK_BYTES, fits - (fits % 4096)));
}

async function drop(paths: HomePaths, up: Upload): Promise<void> {
  clearTimeout(up.timer);
  table(paths).delete(up.id);
  await removeTemp(up.dest, up.temp);
  await up.current?.fh.close().catch(() => {});
  await up.dest.dir.close().catch(() => {});
  await fs.unlink(up.journal).catch(() => {});
}

function expireLater(paths: HomePaths, config: MinionConfig, up: Upload): NodeJS.Timeout {
  const timer = setTimeout(() => {
    if (up.writing > 0) up.timer = expireLater(paths, config, up);
    else void drop(paths, up);
  }, config.uploadExpiryS * 1000);
  timer.unref();
  return timer;
}

function find(ctx: CallContext, id: WireValue | undefined): Upload {
  const up = typeof id === "string" ? table(ctx.paths).get(id) : undefined;
  // another caller's upload is reported as absent, as an unknown one
  if (!up || up.peerCn !== ctx.peerCn) throw new FuncError("BadArguments", `no upload ${JSON.stringify(String(id).slice(0, 64))} (it was committed, aborted or expired)`);
  if (up.closed) throw new FuncError("BadArguments", `upload ${up.id} is being committed or aborted`);
  return up;
}

/** file.upload_begin(id, path, size, sha256, [options]) */
export async function beginUpload(ctx: CallContext, id: WireValue, path: WireValue, size: WireValue, digest: WireValue, options: WireValue | undefined): Promise<WireValue> {
  if (typeof id !== "string" || !UPLOAD_ID_RE.test(id)) throw new FuncError("BadArguments", "upload id must be 16-64 characters of A-Z a-z 0-9 _ -");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw new FuncError("BadArguments", "size must be an integer >= 0");
  if (!isSha256Hex(digest)) throw new FuncError("BadArguments", "sha256 must be 64 hex digits");
  const uploads = table(ctx.paths);
  if (uploads.has(id)) throw new FuncError("BadArguments", `upload id ${id} is in use`);
  if (uploads.size >= ctx.config.maxUploads) throw new FuncError("LimitExceeded", `${uploads.size} uploads are open (max_uploads); try again later`);
  await sweepStale(ctx.paths, ctx.config);
  const dest = await openDestination(ctx.config, path);
  let current: Current | null = null;
  try {
    current = await openCurrent(dest);
    const meta = await fileMeta(ctx.config, options, current?.stat ?? null);
    const sha = digest.toLowerCase();
    const same = await unchanged(current, size, sha, meta);
    if (same) {
      await current?.fh.close();
      await dest.dir.close();
      return { written: false, path: dest.shown, size, sha256: sha, backup: null, mode_changed: same.metaChanged };
    }
    const free = await freeBytes(dest);
    if (size > free) throw new FuncError("LimitExceeded", `${size} bytes do not fit: ${free} bytes free under ${dest.dirPath}`);
    const temp = await createTemp(dest);
    const journal = join(journalDir(ctx.paths), `${id}.json`);
    await fs.mkdir(journalDir(ctx.paths), { recursive: true, mode: 0o700 });
    await fs.writeFile(journal, JSON.stringify({ dir: dest.dirPath, temp: temp.name, pid: process.pid }), { mode: 0o600 });
    const up: Upload = {
      id,
      peerCn: ctx.peerCn,
      dest,
      temp,
      current,
      size,
      sha256: sha,
      meta,
      received: 0,
      ranges: [],
      hash: createHash("sha256"),
      hashedTo: 0,
      writing: 0,
      closed: false,
      journal,
    };
    up.timer = expireLater(ctx.paths, ctx.config, up);
    uploads.set(id, up);
    return { upload: id, chunk: chunkLimit(ctx.config), path: dest.shown };
  } catch (err) {
    if (!uploads.has(id)) {
      await current?.fh.close().catch(() => {});
      await dest.dir.close().catch(() => {});
    }
    throw err;
  }
}

/** Adds [start, end) to the sorted, merged ranges; false (and no change) when it overlaps one. */
function addRange(ranges: [number, number][], start: number, end: number): boolean {
  let i = 0;
  while (i < ranges.length && ranges[i]![1] <= start) i++;
  if (i < ranges.length && ranges[i]![0] < end) return false;
  ranges.splice(i, 0, [start, end]);
  for (let j = Math.max(0, i - 1); j + 1 < ranges.length; ) {
    if (ranges[j]![1] === ranges[j + 1]![0]) ranges.splice(j, 2, [ranges[j]![0], ranges[j + 1]![1]]);
    else j++;
  }
  return true;
}

/** file.upload_chunk(id, offset, data): any offset within the declared size; a chunk may not overlap another. */
export async function uploadChunk(ctx: CallContext, id: WireValue, offset: WireValue, data: WireValue): Promise<WireValue> {
  const up = find(ctx, id);
  if (!Buffer.isBuffer(data) && typeof data !== "string") throw new FuncError("BadArguments", "data must be base64 bytes");
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8");
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw new FuncError("BadArguments", "offset must be an integer >= 0");
  if (bytes.length > chunkLimit(ctx.config)) throw new FuncError("LimitExceeded", `a chunk is at most ${chunkLimit(ctx.config)} bytes`);
  if (offset + bytes.length > up.size) throw new FuncError("BadArguments", `upload ${up.id} declared ${up.size} bytes; this chunk goes past them`);
  if (bytes.length === 0) return { offset, length: 0, received: up.received };
  if (!addRange(up.ranges, offset, offset + bytes.length)) throw new FuncError("BadArguments", `upload ${up.id} already has some of bytes ${offset}..${offset + bytes.length}`);
  up.writing++;
  try {
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await up.temp.fh.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
    if (offset === up.hashedTo) {
      up.hash.update(bytes);
      up.hashedTo += bytes.length;
    }
    up.received += bytes.length;
    up.timer?.refresh();
    return { offset, length: bytes.length, received: up.received };
  } catch (err) {
    if (!up.closed) {
      up.closed = true;
      await drop(ctx.paths, up);
    }
    throw new FuncError("MethodError", `writing upload ${up.id} failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it was aborted`);
  } finally {
    up.writing--;
  }
}

/** file.upload_commit(id, sha256): every byte there and the hash right, or nothing changes. */
export async function commitUpload(ctx: CallContext, id: WireValue, digest: WireValue): Promise<WireValue> {
  const up = find(ctx, id);
  if (!isSha256Hex(digest) || digest.toLowerCase() !== up.sha256) throw new FuncError("BadArguments", "sha256 differs from the one the upload began with");
  if (up.writing > 0) throw new FuncError("BadArguments", `upload ${up.id} still has chunks being written; commit after their answers`);
  up.closed = true;
  try {
    if (up.received !== up.size) throw new FuncError("BadArguments", `upload ${up.id} has ${up.received} of ${up.size} bytes; it was aborted`);
    // chunks that came out of order were not hashed as they came: read them back from the temp file
    if (up.hashedTo < up.size) await hashRange(up.temp.fh, up.hash, up.hashedTo, up.size);
    const got = up.hash.digest("hex");
    if (got !== up.sha256) throw new FuncError("BadArguments", `upload ${up.id}: the bytes received hash to ${got}, not ${up.sha256}; it was aborted`);
    const backup = await install(ctx.config, up.dest, up.temp, up.current, up.meta);
    return { written: true, path: up.dest.shown, size: up.size, sha256: up.sha256, backup, mode_changed: false };
  } finally {
    await drop(ctx.paths, up);
  }
}

/** file.upload_abort(id): removes the temp file; aborting an unknown upload is not an error. */
export async function abortUpload(ctx: CallContext, id: WireValue): Promise<WireValue> {
  const up = typeof id === "string" ? table(ctx.paths).get(id) : undefined;
  if (!up || up.peerCn !== ctx.peerCn) return false;
  if (up.writing > 0 || up.closed) throw new FuncError("BadArguments", `upload ${up.id} is busy; abort it again in a moment`);
  up.closed = true;
  await drop(ctx.paths, up);
  return true;
}

/**
 * Removes temp files named in the journal that no live upload of this process owns (left by a funcd that
 * died). The journal is the minion's own; the temp name is checked before anything is removed.
 */
export async function sweepStale(paths: HomePaths, config: MinionConfig): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(journalDir(paths));
  } catch {
    return;
  }
  const live = table(paths);
  for (const entry of entries) {
    const id = entry.replace(/\.json$/, "");
    if (live.has(id)) continue;
    const file = join(journalDir(paths), entry);
    try {
      const rec = JSON.parse(await fs.readFile(file, "utf8")) as { dir?: unknown; temp?: unknown };
      if (typeof rec.dir === "string" && typeof rec.temp === "string" && TEMP_NAME_RE.test(rec.temp)) {
        const roots = await Promise.all(config.fileRoots.map((r) => fs.realpath(r).catch(() => null)));
        const dir = await fs.open(rec.dir, OPEN_DIRECTORY);
        try {
          const held = await descriptorPath(dir.fd);
          if (roots.some((r) => r !== null && within(held, r))) {
            const target = inDirectory(dir, rec.temp);
            if ((await fs.lstat(target)).isFile()) await fs.unlink(target);
          }
        } finally {
          await dir.close();
        }
      }
    } catch {
      // gone already, or not ours to remove
    }
    await fs.unlink(file).catch(() => {});
  }
}
