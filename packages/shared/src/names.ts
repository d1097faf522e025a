// Minion names become file names (certs/<name>.crt) and cert CNs, so they are checked everywhere they
// enter: hostname syntax only, which rules out `/`, `..`, control characters and shell metacharacters. Every
// name has one canonical form (lower case), used at issue, enrollment, the CA's clash checks, ACLs and audit.

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

/**
 * The one form of a name (a minion's or a caller identity's) that the CA stores, certs carry, ACLs match and
 * audit lines show: lower case. Two names that fold to the same string are the same name.
 */
export function canonicalName(name: string): string {
  return name.toLowerCase();
}

/** A valid minion name in its canonical form. */
export function canonicalMinionName(name: unknown): string {
  return canonicalName(checkMinionName(name));
}
