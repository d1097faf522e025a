// The CA directory's format version (pki/ca/format.json, `{"format": N}`): checked by everything that reads the
// CA's files (a newer one is refused, nothing changed), stamped by what writes them, under the CA lock. A CA
// directory without the file predates versions: format 1, stamped on its first change.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FORMAT_FIELD, FuncError, PUBLIC_FILE_MODE, STORE_FORMATS, checkFileFormat, writeFileAtomic, type HomePaths } from "@func/shared";

export function caFormatFile(paths: HomePaths): string {
  return join(paths.caDir, "format.json");
}

/** The CA directory's format version (1 when it records none); a ConfigError naming the file when it is newer. */
export function checkCaFormat(paths: HomePaths): number {
  const file = caFormatFile(paths);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return checkFileFormat(STORE_FORMATS.ca, file, {});
    throw new FuncError("StoreError", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FuncError("StoreError", `${file} is not JSON: the file is damaged; restore it from a backup, or write {"${FORMAT_FIELD}": 1} to it`);
  }
  return checkFileFormat(STORE_FORMATS.ca, file, parsed);
}

/**
 * Checks the format and records this func's version when the directory is older or records none. Callers hold
 * the CA lock (or create the CA): no other func process changes the directory meanwhile.
 */
export function stampCaFormat(paths: HomePaths): void {
  const file = caFormatFile(paths);
  const current = existsSync(file) ? checkCaFormat(paths) : undefined;
  if (current === STORE_FORMATS.ca.version || !existsSync(paths.caDir)) return;
  // format 1 needs no migration step: its files stay as they are, and the version says what they are
  writeFileAtomic(file, JSON.stringify({ [FORMAT_FIELD]: STORE_FORMATS.ca.version }) + "\n", PUBLIC_FILE_MODE);
}
