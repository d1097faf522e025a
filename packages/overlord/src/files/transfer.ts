// What pushes and pulls share: the progress they report, the memory bound on chunks held at once, the pool
// that runs each host's own pipeline (a few chunks in flight per host, no host waiting for another), and the
// per-host result for an answer that breaks the transfer protocol.

import type { HostResult, WireValue } from "@func/shared";

/** Chunk bytes (and their encoded requests or answers) held at once over all hosts, at most. */
export const TRANSFER_MEMORY_BYTES = 128 * 1024 * 1024;
/** Chunks in flight to (or from) one host at once: one on the wire while the minion writes (or reads) another. */
export const HOST_WINDOW = 3;
/** Least time between two progress reports, ms (the last one always comes). */
const PROGRESS_EVERY_MS = 100;

export interface TransferProgress {
  /** bytes of the file the slowest host still going has sent (or received) so far */
  bytes: number;
  /** the file's size (a pull: the largest size still coming) */
  total: number;
  /** bytes moved so far over every host */
  moved: number;
  /** hosts still transferring */
  hosts: number;
  elapsedMs: number;
}

/** Runs `task(0..count-1)`, at most `slots` at once; resolves when all have settled (a task must not throw). */
export async function runPool(count: number, slots: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(slots, count)) }, lane));
}

/** Counts each host's bytes and reports progress, at most every PROGRESS_EVERY_MS (and when the last host ends). */
export function progressReporter(onProgress?: (p: TransferProgress) => void) {
  const started = performance.now();
  const going = new Map<string, { bytes: number; size: number }>();
  let moved = 0;
  let last = 0;
  const emit = (force: boolean) => {
    const now = performance.now();
    if (!onProgress || (!force && now - last < PROGRESS_EVERY_MS)) return;
    last = now;
    let bytes = Infinity;
    let total = 0;
    for (const h of going.values()) {
      bytes = Math.min(bytes, h.bytes);
      total = Math.max(total, h.size);
    }
    onProgress({ bytes: going.size > 0 ? bytes : 0, total, moved, hosts: going.size, elapsedMs: now - started });
  };
  return {
    start(host: string, size: number): void {
      going.set(host, { bytes: 0, size });
    },
    moved(host: string, bytes: number): void {
      const h = going.get(host);
      if (h) h.bytes += bytes;
      moved += bytes;
      emit(false);
    },
    done(host: string): void {
      going.delete(host);
      if (going.size === 0) emit(true);
    },
  };
}

export function isStruct(v: WireValue): v is { [key: string]: WireValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** The outcome of a host whose answer does not fit the protocol: an error for that host only. */
export function fail(method: string, what: string): HostResult {
  return { outcome: "error", error: { code: 0, type: "ProtocolError", message: `${method}: the minion sent ${what}` } };
}
