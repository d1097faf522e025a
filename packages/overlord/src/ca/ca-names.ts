// Who owns a name in this CA: one namespace for minions (signed or waiting) and caller identities, compared
// in canonical (lower-case) form, so `Boss` and `boss` are one name and a minion can never take an
// identity's name (and with it the identity's ACL rights), nor an identity a minion's.

import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { FuncError, canonicalName, isValidMinionName, type HomePaths } from "@func/shared";
import { issuedDir, revokedCertFile } from "./ca-files.js";

/** Identity names (overlord@host, ops1, ci-runner): a file name and a CN, so no `/`, no `..`, no spaces. */
const IDENTITY_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

export function isValidIdentityName(name: unknown): name is string {
  return typeof name === "string" && IDENTITY_NAME_RE.test(name) && !name.includes("..");
}

/** A name `func-ca revoke/clean/issue` may take (a minion name or an identity name such as overlord@host), canonical. */
export function checkCaName(name: unknown): string {
  if (isValidMinionName(name) || isValidIdentityName(name)) return canonicalName(name);
  const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
  throw new FuncError("BadArguments", `${shown} is not a valid name (letters, digits, ".", "-", "_", "@"; no "/" or "..")`);
}

/**
 * The file in `dir` named `<name><ext>` compared in canonical form, or null. Certs written since names were
 * folded are lower case already; an older identity (`Boss.crt`) is found by a scan of its small directory.
 */
export function findNamed(dir: string, name: string, ext: string): string | null {
  const exact = join(dir, `${name}${ext}`);
  if (existsSync(exact)) return exact;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return null;
  }
  const want = canonicalName(name);
  const hit = files.find((f) => f.endsWith(ext) && canonicalName(basename(f, ext)) === want);
  return hit === undefined ? null : join(dir, hit);
}

/** The issued identity cert for `name` (any case), or null. */
export function issuedFileFor(paths: HomePaths, name: string): string | null {
  return findNamed(issuedDir(paths), name, ".crt");
}

/** The revoked cert kept for `name` (any case), or null. */
export function revokedFileFor(paths: HomePaths, name: string): string | null {
  const exact = revokedCertFile(paths, name);
  return existsSync(exact) ? exact : findNamed(paths.revokedDir, name, ".crt");
}

/** Refuses `name` (canonical) for a new minion request or cert: revoked (until cleaned), or a caller identity's. */
export function checkFreeForMinion(paths: HomePaths, name: string): void {
  if (revokedFileFor(paths, name) !== null) {
    throw new FuncError("AccessDenied", `${name} was revoked: "func-ca clean ${name}" lets it enroll again`);
  }
  if (issuedFileFor(paths, name) !== null) throw new FuncError("AccessDenied", `${name} is the name of a caller identity, not a minion`);
}

/** Refuses `name` (canonical) for a new caller identity: a minion's (signed or waiting), revoked, or issued already. */
export function checkFreeForIdentity(paths: HomePaths, name: string): void {
  if (findNamed(paths.signedDir, name, ".crt") !== null || findNamed(paths.csrDir, name, ".csr") !== null) {
    throw new FuncError("AccessDenied", `${name} is a minion's name`);
  }
  if (revokedFileFor(paths, name) !== null) throw new FuncError("AccessDenied", `${name} was revoked: "func-ca clean ${name}" frees the name`);
  if (issuedFileFor(paths, name) !== null) throw new FuncError("AccessDenied", `an identity named ${name} already exists`);
}

