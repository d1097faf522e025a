// SHA-256 of an open file (or a range of it), streamed through one bounded buffer: memory stays flat whatever
// the file's size. Both ends of a transfer use it: the minion's file module and the overlord's copyfile/getfile.

import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** Bytes read per step. */
const HASH_READ_BYTES = 1024 * 1024;

/** Feeds bytes [from, to) of the file behind `fh` into `hash` (to: Infinity reads to its end); resolves to the end. */
export async function hashRange(fh: FileHandle, hash: Hash, from = 0, to = Infinity): Promise<number> {
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  let position = from;
  while (position < to) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - position), position);
    if (bytesRead === 0) {
      if (to === Infinity) break;
      throw new Error(`the file ends at ${position}, before ${to}`);
    }
    hash.update(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  return position;
}

/** The SHA-256 (hex) of the whole file behind `fh`. */
export async function sha256OfHandle(fh: FileHandle): Promise<string> {
  const hash = createHash("sha256");
  await hashRange(fh, hash);
  return hash.digest("hex");
}
