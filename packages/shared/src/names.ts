// Minion names become file names (certs/<name>.crt) and cert CNs, so they are checked everywhere they
// enter: hostname syntax only, which rules out `/`, `..`, control characters and shell metacharacters.

import { FuncError } from "./errors.js";

/** Longest host name DNS allows. */
export const MAX_NAME_LENGTH = 253;
const LABEL_RE = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export function isValidMinionName(name: unknown): name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  return name.split(".").every((label) => LABEL_RE.test(label));
}

export function checkMinionName(name: unknown): string {
  if (!isValidMinionName(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
    throw new FuncError("BadArguments", `${shown} is not a valid minion name (host name syntax: letters, digits, "-", "_", dot-separated labels)`);
  }
  return name;
}
