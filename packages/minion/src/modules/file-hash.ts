// SHA-256 checks of the file module: of bytes in memory, and of the hex digests callers send. Streamed hashing
// of open files is shared with the overlord (@func/shared file-hash.ts).

import { createHash } from "node:crypto";

export { hashRange, sha256OfHandle } from "@func/shared/core";

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A SHA-256 in hex, as callers send it: 64 hex digits (any case). */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-fA-F]{64}$/.test(value);
}
