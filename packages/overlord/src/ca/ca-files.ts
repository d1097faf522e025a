// The CA's files on disk (DESIGN section 4): where pki/ca/{revoked.json, issued/, csrs/*.json, revoked/*} live,
// and the atomic, exclusive writes and tolerant reads every part of the CA (ca, enroll-queue, revocation) uses.

import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { FuncError, KEY_FILE_MODE, PRIVATE_DIR_MODE, PUBLIC_FILE_MODE, csrFile, tempFileName, writeFileAtomic, type CertPair, type HomePaths } from "@func/shared";
import { checkCaFormat } from "./ca-format.js";

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export function writeAtomic(file: string, data: string, mode = PUBLIC_FILE_MODE): void {
  writeFileAtomic(file, data, mode);
}

/** Writes `file` only if it does not exist yet (a hard link is atomic and exclusive); false when it already did. */
export function publishExclusive(file: string, data: string, mode = PUBLIC_FILE_MODE): boolean {
  ensureDir(dirname(file));
  const tmp = tempFileName(file);
  writeFileSync(tmp, data, { mode, flag: "wx" });
  chmodSync(tmp, mode);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

export function writeKey(file: string, pem: string): void {
  writeAtomic(file, pem, KEY_FILE_MODE);
}

export function writePublic(file: string, pem: string): void {
  writeAtomic(file, pem, PUBLIC_FILE_MODE);
}

export function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export function readJson<T>(file: string): T | null {
  const text = readIfExists(file);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The list of revoked serials the CRL is built from (pki/ca/revoked.json). */
export function revokedListFile(paths: HomePaths): string {
  return join(paths.caDir, "revoked.json");
}

/** Extra caller identities (the overlord's own, `func-ca issue`): their certs are kept so they can be revoked by name. */
export function issuedDir(paths: HomePaths): string {
  return join(paths.caDir, "issued");
}

export function issuedCertFile(paths: HomePaths, name: string): string {
  return join(issuedDir(paths), `${name}.crt`);
}

export function revokedCertFile(paths: HomePaths, name: string): string {
  return join(paths.revokedDir, `${name}.crt`);
}

export function csrMetaFile(paths: HomePaths, name: string): string {
  return `${csrFile(paths, name)}.json`;
}

export function caExists(paths: HomePaths): boolean {
  return existsSync(paths.caKey) && existsSync(paths.caCert);
}

/** The CA's key and cert, from a CA directory in a format this func reads. */
export function loadCa(paths: HomePaths): CertPair {
  if (!caExists(paths)) throw new FuncError("ConfigError", `no CA in ${paths.caDir}: run "func-ca init"`);
  checkCaFormat(paths);
  return { keyPem: readFileSync(paths.caKey, "utf8"), certPem: readFileSync(paths.caCert, "utf8") };
}
