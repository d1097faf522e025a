// LMDB environments with our settings (one data file per store directory) for both job stores, with their
// format version checked (a newer store refused untouched) and an older one migrated on open. A separate
// entry point (@func/shared/lmdb-store) so that processes without a job store never load the native module.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { open, type Key, type RootDatabase } from "lmdb";
import { FuncError } from "./errors.js";
import { checkLmdbFile } from "./lmdb-check.js";
import { checkStoreFormat, type StoreFormat } from "./store-format.js";

/** The data file inside a store directory (LMDB keeps `<file>-lock` beside it). */
export const LMDB_DATA_FILE = "data.mdb";
/**
 * Stores up to this size get a full structural walk before they are opened (LMDB itself segfaults on a damaged
 * file); larger ones only their meta pages and tree roots, so opening a big store stays fast.
 */
const OPEN_FULL_CHECK_MAX_BYTES = 16 * 1024 * 1024;
/** Read transactions open at once across every process sharing one store. */
const MAX_READERS = 1024;
/** The key holding a store's format version (a number); no store's ranges reach it. */
export const LMDB_FORMAT_KEY: Key = ["format"];

/**
 * Takes a store from format `from` to `from + 1`, inside the open's write transaction (so all steps and the new
 * version land together, or none do). `migrations[v - 1]` is the step from format v.
 */
export type LmdbMigration = (db: RootDatabase<unknown, Key>) => void;

/**
 * Opens (creating) the LMDB store in `dir`, after checking its file (a damaged one is a StoreError naming the
 * file and how to recover) and its format version: a newer one is a ConfigError and the store is left as it
 * was; an older one (or one with records and no version: format 1) is migrated by `migrations` and stamped with
 * `format.version` in one transaction. An empty store is not written here: its first write transaction stamps
 * it (`stampNewStore`); a write at open made funcd die inside lmdb (heap corruption) once its disk filled up
 * later (the campaign's full-disk case). Callers whose store other processes open hold their lock around this.
 * Read-modify-writes must run inside `transactionSync`:
 * lmdb's async `transaction` callbacks never run with the prebuilt binary on this Node, and hang exit.
 */
export function openLmdb(dir: string, format: StoreFormat, migrations: readonly LmdbMigration[] = []): RootDatabase<unknown, Key> {
  const file = join(dir, LMDB_DATA_FILE);
  let db: RootDatabase<unknown, Key> | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // LMDB trusts its file: a damaged one kills the process (SIGSEGV, SIGBUS) instead of failing the open
    checkLmdbFile(file, OPEN_FULL_CHECK_MAX_BYTES);
    db = open<unknown, Key>({ path: file, maxReaders: MAX_READERS, compression: false, overlappingSync: false });
    const opened = db;
    const recorded = opened.get(LMDB_FORMAT_KEY);
    const empty = recorded === undefined && opened.getKeysCount({ limit: 1 }) === 0;
    if (!empty && (recorded === undefined || checkStoreFormat(format, file, recorded) < format.version)) {
      opened.transactionSync(() => {
        // read again inside the transaction: the version is what this transaction migrates from
        let at = checkStoreFormat(format, file, opened.get(LMDB_FORMAT_KEY));
        for (; at < format.version; at++) {
          const step = migrations[at - 1];
          if (!step) throw new FuncError("StoreError", `${file}: no migration from ${format.label} format ${at} to ${at + 1}`);
          step(opened);
        }
        void opened.put(LMDB_FORMAT_KEY, format.version);
      });
    }
    return opened;
  } catch (err) {
    // nothing was written: the refused store stays as it was
    if (db) void db.close();
    throw storeError(err, `cannot open the ${format.label} in ${dir}`);
  }
}

/** Inside a write transaction: gives a store that records no version yet (a new one) `format.version`. */
export function stampNewStore(db: RootDatabase<unknown, Key>, format: StoreFormat): void {
  if (db.get(LMDB_FORMAT_KEY) === undefined) void db.put(LMDB_FORMAT_KEY, format.version);
}

/** LMDB or file-system failures as a FuncError: a full disk or map is a limit (fault 5), the rest a StoreError. */
export function storeError(err: unknown, what: string): FuncError {
  if (err instanceof FuncError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = `${what}: ${e?.message ?? String(err)}`;
  const full = e?.code === "ENOSPC" || e?.code === "EDQUOT" || /MDB_MAP_FULL|ENOSPC|No space left/i.test(e?.message ?? "");
  return new FuncError(full ? "LimitExceeded" : "StoreError", message, { cause: err });
}
