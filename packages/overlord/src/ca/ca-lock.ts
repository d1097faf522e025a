// The CA lock: revocations and CRL writes are read-modify-write of revoked.json, and func-ca (one process) and
// func-ca serve (another) both do them. Signing needs no lock: a cert is published with an exclusive link.

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
