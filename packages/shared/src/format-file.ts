// A store's format version kept in a file of its own (`{"format": N}`) beside files whose layouts stay as they
// were (the CA directory, func-web's directory): read and checked by every reader (store-format.ts), written
// by the first change. A missing file means a store written before versions: format 1.

import { existsSync, readFileSync } from "node:fs";
import { FuncError } from "./errors.js";
import { PUBLIC_FILE_MODE, writeFileAtomic } from "./files.js";
import { FORMAT_FIELD, checkFileFormat, type StoreFormat } from "./store-format.js";

/** The version `file` records (1 when there is none); a ConfigError naming it when it is newer than `format`. */
export function readFormatFile(format: StoreFormat, file: string): number {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return checkFileFormat(format, file, {});
    throw new FuncError("StoreError", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FuncError("StoreError", `${file} is not JSON: the file is damaged; restore it from a backup`);
  }
  return checkFileFormat(format, file, parsed);
}

/**
 * Checks `file` and records `format.version` in it when it records an older one or none. The caller holds the
 * store's lock (or is creating the store), and runs the store's migration steps first, if it has any.
 */
export function stampFormatFile(format: StoreFormat, file: string): void {
  if (existsSync(file) && readFormatFile(format, file) === format.version) return;
  writeFileAtomic(file, JSON.stringify({ [FORMAT_FIELD]: format.version }) + "\n", PUBLIC_FILE_MODE);
}
