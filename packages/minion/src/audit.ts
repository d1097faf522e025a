// The audit log: one JSON line per call (time, peer CN, address, method, outcome, duration), appended.

import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
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

export class AuditLog {
  readonly #stream: WriteStream;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.#stream = createWriteStream(file, { flags: "a", mode: 0o600 });
    // a full disk must not take the minion down: the call itself still gets its answer
    this.#stream.on("error", () => {});
  }

  write(record: AuditRecord): void {
    const line = JSON.stringify({ time: new Date().toISOString(), ...record, method: record.method.slice(0, 256) });
    this.#stream.write(line + "\n");
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
