// Store format versions: the one table of the version each persisted store is written in, and the one check
// every store runs when it opens or reads a file. A store that records no version predates versions (format 1);
// a newer one is refused with one line naming the file and both versions, and nothing in it is changed.

import { FuncError } from "./errors.js";

/** Each store this func persists: the format version it reads and writes, and what the operator calls it. */
export const STORE_FORMATS = {
  /** <state>/jobs (LMDB): the overlord's job store */
  overlordJobs: { version: 1, label: "overlord job store" },
  /** <state>/jobs-spool/<id>.json: recorded sync runs waiting to enter the overlord job store */
  runSpool: { version: 1, label: "overlord run spool" },
  /** <state>/minion-jobs (LMDB): the minion's job store */
  minionJobs: { version: 1, label: "minion job store" },
  /** <state>/run/<id>.job.json and <id>.result.json: what a job runner runs, and what came of it */
  jobSpool: { version: 1, label: "minion job spool" },
  /** pki/ca/ (the version in pki/ca/format.json): signed certs and records, requests, revocations */
  ca: { version: 1, label: "CA directory" },
  /** <state>/map.json: the delegation map (`func map build`) */
  delegationMap: { version: 1, label: "delegation map" },
  /** <state>/web/ (the version in web/format.json): func-web's tokens and open runs */
  web: { version: 1, label: "func-web directory" },
  /** <state>/filetracker/ (the version in filetracker/format.json): a minion's tracked globs and last inventory */
  filetracker: { version: 1, label: "filetracker directory" },
  /** <state>/signatures/<host>.json: each minion's system.inventory() answer (a cache: a newer one is fetched again) */
  signatureCache: { version: 1, label: "signature cache" },
} as const;
export type StoreKind = keyof typeof STORE_FORMATS;

/** A store's format: its version and its name in messages (a table entry; tests pass their own). */
export interface StoreFormat {
  readonly version: number;
  readonly label: string;
}

/** The version of a store written before versions were recorded (everything func wrote until they were). */
export const UNVERSIONED_FORMAT = 1;
/** The field that holds the version in a JSON store file. */
export const FORMAT_FIELD = "format";

/**
 * The format version a store records (`recorded` undefined: none, so format 1). Throws a ConfigError naming
 * `file` and both versions when it is newer than `format.version` (this func cannot read it safely), a
 * StoreError when it is no version at all. Pure: the caller must change nothing in the store before it returns.
 */
export function checkStoreFormat(format: StoreFormat, file: string, recorded: unknown): number {
  if (recorded === undefined) return UNVERSIONED_FORMAT;
  if (typeof recorded !== "number" || !Number.isSafeInteger(recorded) || recorded < 1) {
    throw new FuncError(
      "StoreError",
      `${file} records format ${JSON.stringify(recorded)}, which is no ${format.label} format version: the file is damaged; restore it from a backup`,
    );
  }
  if (recorded > format.version) {
    throw new FuncError(
      "ConfigError",
      `${file} is ${format.label} format ${recorded}, newer than format ${format.version} which this func supports: ` +
        `upgrade func to the version that wrote it, or restore a backup made by this version (the store was not changed)`,
    );
  }
  return recorded;
}

/** The version recorded in a parsed JSON store file (its `format` field), checked as `checkStoreFormat`. */
export function checkFileFormat(format: StoreFormat, file: string, parsed: unknown): number {
  const recorded = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[FORMAT_FIELD] : undefined;
  return checkStoreFormat(format, file, recorded);
}
