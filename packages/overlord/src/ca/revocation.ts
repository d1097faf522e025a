// Revocation and the CRL: pki/ca/revoked.json lists every revoked serial, crl.pem is signed from it with a
// short life (CRL_DAYS) and re-signed past half of it, so a minion that cannot reach the service learns it is
// stale within days (it then serves the overlord identity only: DESIGN section 9, docs/security.md).

import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FuncError, certInfo, createCrl, crlNextUpdate, csrFile, minionAddressFile, signedCertFile, type HomePaths } from "@func/shared";
import { caExists, csrMetaFile, loadCa, readIfExists, readJson, revokedListFile, writeAtomic, writePublic } from "./ca-files.js";
import { withCaLock } from "./ca-lock.js";
import { checkCaName, issuedFileFor, revokedFileFor } from "./ca-names.js";

/**
 * Lifetime of each CRL this CA writes, days. Short, so that revocation does not depend on the service staying
 * reachable: a minion whose CRL passes this without a fresh one refuses every caller but the overlord role.
 */
export const CRL_DAYS = 2;
/** A CRL with less than this much life left is re-signed by whoever uses the CA next (serve checks hourly), ms. */
const CRL_REFRESH_BEFORE_MS = (CRL_DAYS / 2) * 24 * 60 * 60 * 1000;

interface RevokedEntry {
  serial: string;
  name: string;
  revokedAt: string;
}

function readRevokedList(paths: HomePaths): RevokedEntry[] {
  const list = readJson<RevokedEntry[]>(revokedListFile(paths));
  if (list === null && existsSync(revokedListFile(paths))) {
    throw new FuncError("ConfigError", `${revokedListFile(paths)} is damaged: refusing to write a CRL that would forget revocations`);
  }
  return Array.isArray(list) ? list : [];
}

/** Signs and writes the CRL for `list` (an empty list at `func-ca init`). */
export async function writeCrl(paths: HomePaths, list: readonly RevokedEntry[] = []): Promise<void> {
  const ca = loadCa(paths);
  const crl = await createCrl(
    ca,
    list.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt) })),
    { nextUpdateDays: CRL_DAYS },
  );
  writePublic(paths.crl, crl);
}

export interface Revoked {
  name: string;
  serial: string;
  kind: "minion" | "identity";
}

async function revokeLocked(paths: HomePaths, name: string): Promise<Revoked> {
  const minionFile = signedCertFile(paths, name);
  const identityFile = issuedFileFor(paths, name);
  const file = existsSync(minionFile) ? minionFile : identityFile;
  if (file === null) {
    if (revokedFileFor(paths, name) !== null) throw new FuncError("NotFound", `${name} is already revoked`);
    throw new FuncError("NotFound", `no signed cert or identity named ${name}`);
  }
  const pem = readFileSync(file, "utf8");
  const serial = certInfo(pem).serial;
  const list = readRevokedList(paths);
  if (!list.some((e) => e.serial === serial)) list.push({ serial, name, revokedAt: new Date().toISOString() });
  // the CRL first: once the cert leaves certs/ nothing else remembers its serial
  writeAtomic(revokedListFile(paths), JSON.stringify(list, null, 1) + "\n");
  await writeCrl(paths, list);
  renameSync(file, join(paths.revokedDir, `${name}.crt`));
  const addr = minionAddressFile(paths, name);
  if (file === minionFile && existsSync(addr)) renameSync(addr, join(paths.revokedDir, `${name}.json`));
  return { name, serial, kind: file === minionFile ? "minion" : "identity" };
}

/**
 * Revokes the minion or identity called `name` (any case): its serial goes into the CRL and its cert moves to
 * revoked/, which takes a minion out of the target universe at once. The name stays blocked until `cleanName`.
 */
export async function revokeName(paths: HomePaths, name: string): Promise<Revoked> {
  const n = checkCaName(name);
  return withCaLock(paths, () => revokeLocked(paths, n));
}

/**
 * Lets `name` enroll (or be issued) again: a cert it still holds is revoked first (the old key must stop
 * working), then its waiting request and revoked marker are removed. The serials stay in the CRL.
 */
export async function cleanName(paths: HomePaths, name: string): Promise<{ revoked: Revoked | null; removed: string[] }> {
  const n = checkCaName(name);
  return withCaLock(paths, async () => {
    const revoked = existsSync(signedCertFile(paths, n)) || issuedFileFor(paths, n) !== null ? await revokeLocked(paths, n) : null;
    const removed: string[] = [];
    const marker = revokedFileFor(paths, n);
    for (const f of [csrFile(paths, n), csrMetaFile(paths, n), ...(marker ? [marker] : []), join(paths.revokedDir, `${n}.json`)]) {
      if (existsSync(f)) {
        rmSync(f, { force: true });
        removed.push(f);
      }
    }
    return { revoked, removed };
  });
}

export function revokedSerials(paths: HomePaths): string[] {
  return readRevokedList(paths).map((e) => e.serial);
}

/**
 * Re-signs the CRL when it is missing, unreadable or past half its life (an expired CRL makes every minion
 * that holds it serve the overlord role only). Returns whether it wrote one. Needs the CA key.
 */
export async function refreshCrlIfStale(paths: HomePaths, now = Date.now()): Promise<boolean> {
  if (!caExists(paths)) return false;
  const stale = (): boolean => {
    const pem = readIfExists(paths.crl);
    if (pem === null) return true;
    try {
      const next = crlNextUpdate(pem);
      return next === null || next.getTime() - now < CRL_REFRESH_BEFORE_MS;
    } catch {
      return true;
    }
  };
  if (!stale()) return false;
  return withCaLock(paths, async () => {
    if (!stale()) return false;
    await writeCrl(paths, readRevokedList(paths));
    return true;
  });
}
