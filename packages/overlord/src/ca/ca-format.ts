// The CA directory's format version (pki/ca/format.json, `{"format": N}`): checked by everything that reads the
// CA's files (a newer one is refused, nothing changed), stamped by what writes them, under the CA lock. A CA
// directory without the file predates versions: format 1, stamped on its first change.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { STORE_FORMATS, readFormatFile, stampFormatFile, type HomePaths } from "@func/shared";

export function caFormatFile(paths: HomePaths): string {
  return join(paths.caDir, "format.json");
}

/** The CA directory's format version (1 when it records none); a ConfigError naming the file when it is newer. */
export function checkCaFormat(paths: HomePaths): number {
  return readFormatFile(STORE_FORMATS.ca, caFormatFile(paths));
}

/** Checks the format and records this func's (format 1 needs no migration step). Callers hold the CA lock. */
export function stampCaFormat(paths: HomePaths): void {
  if (existsSync(paths.caDir)) stampFormatFile(STORE_FORMATS.ca, caFormatFile(paths));
}
