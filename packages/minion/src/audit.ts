// The audit log: one JSON line per call (time, peer CN, address, method, outcome, duration), appended.
// Each line is written synchronously (~5 µs): it is in the file before the answer leaves, and no thread pool
// round trip (~100 µs on a busy machine) is paid per call.

import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface AuditRecord {
  cn: string;
  addr: string;
  method: string;
  outcome: string;
  ms: number;
  job?: string;
  detail?: string;
  /** the original caller, when an overlord-role peer relayed the call for someone (delegation) */
  caller?: string;
  /** the sub-overlords the call came through, top first */
  via?: string;
}

export class AuditLog {
  #fd: number | null = null;
  /** why the log could not be opened (calls are still served, unaudited) */
  readonly error: string | null = null;

  constructor(file: string) {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      this.#fd = openSync(file, "a", 0o600);
    } catch (err) {
      this.error = `cannot open ${file}: ${(err as Error).message}`;
    }
  }

  write(record: AuditRecord): void {
    if (this.#fd === null) return;
    const line = JSON.stringify({ time: new Date().toISOString(), ...record, method: record.method.slice(0, 256) });
    try {
      writeSync(this.#fd, line + "\n");
    } catch {
      // a full disk must not take the minion down: the call itself still gets its answer
    }
  }

  close(): Promise<void> {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
    return Promise.resolve();
  }
}
