// What pushes and pulls share: the progress they report, the memory bound that sets how many hosts get a
// chunk at once, and the per-host result for an answer that breaks the transfer protocol.

import type { HostResult, WireValue } from "@func/shared";

/** Chunk bytes (and their encoded requests or answers) held at once over all hosts of one round, at most. */
export const TRANSFER_MEMORY_BYTES = 128 * 1024 * 1024;

export interface TransferProgress {
  /** bytes of the file sent to (or received from) each host still going, so far */
  bytes: number;
  /** the file's size (a pull: the largest size still coming) */
  total: number;
  /** hosts still transferring */
  hosts: number;
  elapsedMs: number;
}

/** Hosts that get a chunk at once: a chunk and its base64 request (~2.4x the chunk) each, within the budget. */
export function transferConcurrency(chunk: number, configured: number): number {
  return Math.max(1, Math.min(configured, Math.floor(TRANSFER_MEMORY_BYTES / (chunk * 2.4))));
}

export function isStruct(v: WireValue): v is { [key: string]: WireValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** The outcome of a host whose answer does not fit the protocol: an error for that host only. */
export function fail(method: string, what: string): HostResult {
  return { outcome: "error", error: { code: 0, type: "ProtocolError", message: `${method}: the minion sent ${what}` } };
}
