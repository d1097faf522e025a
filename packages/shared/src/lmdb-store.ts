// LMDB environments with our settings (one data file per store directory) for both job stores. A separate
// entry point (@func/shared/lmdb-store) so that processes without a job store never load the native module.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { open, type Key, type RootDatabase } from "lmdb";
import { FuncError } from "./errors.js";
import { checkLmdbFile } from "./lmdb-check.js";

/** The data file inside a store directory (LMDB keeps `<file>-lock` beside it). */
export const LMDB_DATA_FILE = "data.mdb";
/**
 * Stores up to this size get a full structural walk before they are opened (LMDB itself segfaults on a damaged
 * file); larger ones only their meta pages and tree roots, so opening a big store stays fast.
 */
const OPEN_FULL_CHECK_MAX_BYTES = 16 * 1024 * 1024;
/** Read transactions open at once across every process sharing one store. */
const MAX_READERS = 1024;

/**
 * Opens (creating) the LMDB store in `dir`, after checking its file (a damaged one is a StoreError naming the
 * file and how to recover). Read-modify-writes must run inside `transactionSync`:
 * lmdb's async `transaction` callbacks never run with the prebuilt binary on this Node, and hang exit.
 */
export function openLmdb<V>(dir: string): RootDatabase<V, Key> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // LMDB trusts its file: a damaged one kills the process (SIGSEGV, SIGBUS) instead of failing the open
    checkLmdbFile(join(dir, LMDB_DATA_FILE), OPEN_FULL_CHECK_MAX_BYTES);
    return open<V, Key>({ path: join(dir, LMDB_DATA_FILE), maxReaders: MAX_READERS, compression: false, overlappingSync: false });
  } catch (err) {
    throw storeError(err, `cannot open the job store in ${dir}`);
  }
}

/** LMDB or file-system failures as a FuncError: a full disk or map is a limit (fault 5), the rest a StoreError. */
export function storeError(err: unknown, what: string): FuncError {
  if (err instanceof FuncError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = `${what}: ${e?.message ?? String(err)}`;
  const full = e?.code === "ENOSPC" || e?.code === "EDQUOT" || /MDB_MAP_FULL|ENOSPC|No space left/i.test(e?.message ?? "");
  return new FuncError(full ? "LimitExceeded" : "StoreError", message, { cause: err });
}
