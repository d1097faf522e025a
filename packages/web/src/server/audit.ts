// The overlord's audit log for func-web: one JSON line per action (logins, calls, signs, revokes, refusals)
// with the identity that did it, appended to log/overlord-audit.log under the state directory.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { PRIVATE_DIR_MODE, type HomePaths } from "@func/shared";

export interface AuditEntry {
  identity: string;
  role: string | null;
  via: string;
  address: string;
  action: string;
  outcome: "ok" | "denied" | "error";
  [detail: string]: unknown;
}

export function auditFile(paths: HomePaths): string {
  return join(paths.logDir, "overlord-audit.log");
}

export class AuditLog {
  readonly #file: string;
  readonly #onError: (message: string) => void;

  constructor(paths: HomePaths, onError: (message: string) => void = () => {}) {
    this.#file = auditFile(paths);
    this.#onError = onError;
    mkdirSync(dirname(this.#file), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  write(entry: AuditEntry): void {
    try {
      appendFileSync(this.#file, JSON.stringify({ time: new Date().toISOString(), source: "func-web", ...entry }) + "\n", { mode: 0o600 });
    } catch (err) {
      this.#onError(`cannot write the audit log ${this.#file}: ${(err as Error).message}`);
    }
  }
}
