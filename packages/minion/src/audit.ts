// The audit log: one JSON line per call (time, peer CN, address, method, outcome, duration), appended.
// Each line is written synchronously (~5 µs): it is in the file before the answer leaves, and no thread pool
// round trip (~100 µs on a busy machine) is paid per call. Bounded: past `maxBytes` the file is rotated
// (audit.log -> audit.log.1 -> ... -> audit.log.<keep>, the oldest dropped); funcd's SIGHUP reopens it.

import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface AuditRecord {
  cn: string;
  addr: string;
  method: string;
  outcome: string;
  ms: number;
  job?: string;
  detail?: string;
}

export interface AuditLimits {
  /** rotate when the file would grow past this many bytes (minion.conf audit_log_max_bytes); 0: never */
  maxBytes: number;
  /** rotated files kept (minion.conf audit_log_keep); 0: the full file is truncated instead */
  keep: number;
}

export class AuditLog {
  readonly #file: string;
  readonly #limits: AuditLimits;
  #fd: number | null = null;
  #size = 0;
  /** why the log could not be opened (calls are still served, unaudited) */
  error: string | null = null;

  constructor(file: string, limits: AuditLimits = { maxBytes: 0, keep: 0 }) {
    this.#file = file;
    this.#limits = limits;
    this.#open();
  }

  #open(): void {
    try {
      mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.#file, "a", 0o600);
      this.#size = fstatSync(this.#fd).size;
      this.error = null;
    } catch (err) {
      this.#fd = null;
      this.error = `cannot open ${this.#file}: ${(err as Error).message}`;
    }
  }

  #closeFd(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  /** Closes and opens the file again (after an outside rotation moved it away): funcd's SIGHUP. */
  reopen(): void {
    this.#closeFd();
    this.#open();
  }

  #rotate(): void {
    this.#closeFd();
    try {
      const { keep } = this.#limits;
      rmSync(`${this.#file}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) {
        try {
          renameSync(`${this.#file}.${i}`, `${this.#file}.${i + 1}`);
        } catch {
          // a gap in the numbering: nothing to move
        }
      }
      if (keep > 0) renameSync(this.#file, `${this.#file}.1`);
      else rmSync(this.#file, { force: true });
    } catch {
      // could not move it: keep appending to the same file rather than lose lines
    }
    this.#open();
  }

  write(record: AuditRecord): void {
    if (this.#fd === null) return;
    const line = JSON.stringify({ time: new Date().toISOString(), ...record, method: record.method.slice(0, 256) }) + "\n";
    const bytes = Buffer.byteLength(line);
    if (this.#limits.maxBytes > 0 && this.#size > 0 && this.#size + bytes > this.#limits.maxBytes) this.#rotate();
    if (this.#fd === null) return;
    try {
      writeSync(this.#fd, line);
      this.#size += bytes;
    } catch {
      // a full disk must not take the minion down: the call itself still gets its answer
    }
  }

  close(): Promise<void> {
    this.#closeFd();
    return Promise.resolve();
  }
}
