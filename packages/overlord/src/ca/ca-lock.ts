// The CA lock: revocations and CRL writes are read-modify-write of revoked.json, and func-ca (one process) and
// func-ca serve (another) both do them; and the names are one namespace, so each minion cert, waiting request
// and identity is published under it after its name is checked once more (the signing itself, the slow part,
// happens before, unlocked).

import { resolve } from "node:path";
import { withHostLock, type HomePaths } from "@func/shared";
import { stampCaFormat } from "./ca-format.js";

/** How long a CA change waits for another process's lock, ms. */
const LOCK_WAIT_MS = 10_000;

/**
 * The host lock (shared host-lock.ts) keyed by the CA's directory: freed by the kernel if its holder dies.
 * A directory in a newer format is refused before `fn` runs; an older one is stamped with this func's.
 */
export function withCaLock<T>(paths: HomePaths, fn: () => Promise<T>): Promise<T> {
  return withHostLock(
    `ca:${resolve(paths.caDir)}`,
    () => {
      stampCaFormat(paths);
      return fn();
    },
    LOCK_WAIT_MS,
  );
}
