// SHA-256 of an open file, streamed through one bounded buffer: memory stays flat whatever the file's size
// (file.checksum, the unchanged-content check before a write, and the upload's final check).

import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** Bytes read per step. */
const HASH_READ_BYTES = 1024 * 1024;

/** Feeds the whole file behind `fh` (from offset 0) into `hash`; resolves to the bytes read. */
export async function hashInto(fh: FileHandle, hash: Hash): Promise<number> {
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  let position = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, position);
    if (bytesRead === 0) return position;
    hash.update(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
}

/** The SHA-256 (hex) of the file behind `fh`. */
export async function sha256OfHandle(fh: FileHandle): Promise<string> {
  const hash = createHash("sha256");
  await hashInto(fh, hash);
  return hash.digest("hex");
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A SHA-256 in hex, as callers send it: 64 hex digits (any case). */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-fA-F]{64}$/.test(value);
}
