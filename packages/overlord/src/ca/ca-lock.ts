// The CA lock: revocations and CRL writes are read-modify-write of revoked.json, and func-ca (one process) and
// func-ca serve (another) both do them. Signing needs no lock: a cert is published with an exclusive link.

import { mkdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FuncError, PRIVATE_DIR_MODE, type HomePaths } from "@func/shared";

/** A CA lock older than this was left by a process that died: it is broken, ms. */
const LOCK_STALE_MS = 30_000;
/** How long a CA change waits for another process's lock, ms. */
const LOCK_WAIT_MS = 10_000;

const inProcessLocks = new Map<string, Promise<unknown>>();

export async function withCaLock<T>(paths: HomePaths, fn: () => Promise<T>): Promise<T> {
  const key = paths.caDir;
  const prev = inProcessLocks.get(key) ?? Promise.resolve();
  const run = prev.then(
    () => withFileLock(paths, fn),
    () => withFileLock(paths, fn),
  );
  inProcessLocks.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcessLocks.get(key) === run) inProcessLocks.delete(key);
  }
}

async function withFileLock<T>(paths: HomePaths, fn: () => Promise<T>): Promise<T> {
  const lock = join(paths.caDir, ".lock");
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock, { mode: PRIVATE_DIR_MODE });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile: try again
      }
      if (Date.now() > deadline) throw new FuncError("ConfigError", `the CA in ${paths.caDir} is locked by another process (${lock})`);
      await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // broken as stale by someone else: nothing to release
    }
  }
}
