// Writing PKI and state files safely: whole-file replacement by rename (a reader never sees half a cert), and
// private keys created with mode 0600 before a byte of them is written. Used by the CA store and by funcd.

import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Private keys: readable by their owner only. */
export const KEY_FILE_MODE = 0o600;
/** Certs, CSRs, CRLs and records: anyone may read them. */
export const PUBLIC_FILE_MODE = 0o644;
/** Directories created for PKI and state files. */
export const PRIVATE_DIR_MODE = 0o700;

/** A unique temporary name beside `file` (same directory, so the rename stays on one file system). */
export function tempFileName(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Replaces `file` with `data` atomically; the file has `mode` from its first byte on (umask notwithstanding). */
export function writeFileAtomic(file: string, data: string, mode: number = PUBLIC_FILE_MODE): void {
  mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const tmp = tempFileName(file);
  writeFileSync(tmp, data, { mode, flag: "wx" });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
