// The CA itself (DESIGN section 4): creating it, signing minion certs (pki/ca/certs/<name>.crt with the address
// the CA recorded in <name>.json), issuing caller identities (issued/), and reading what it signed. func-ca,
// func-fleet and the enrollment service all go through these functions; none of them prints.

import { chmodSync, existsSync, readdirSync, rmSync } from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { basename } from "node:path";
import {
  FuncError,
  canonicalMinionName,
  certInfo,
  checkMinionName,
  createCa,
  csrFile,
  fingerprint,
  globToRegExp,
  isValidMinionName,
  issueCert,
  minionAddressFile,
  readCsr,
  signCsr,
  signedCertFile,
  verifyCsr,
  type CertPair,
  type CertRole,
  type HomePaths,
} from "@func/shared";
import {
  caExists,
  csrMetaFile,
  ensureDir,
  issuedCertFile,
  issuedDir,
  loadCa,
  publishExclusive,
  readIfExists,
  readJson,
  revokedListFile,
  writeAtomic,
  writeKey,
  writePublic,
} from "./ca-files.js";
import { checkCaFormat, stampCaFormat } from "./ca-format.js";
import { withCaLock } from "./ca-lock.js";
import { checkCaName, checkFreeForIdentity, checkFreeForMinion } from "./ca-names.js";
import { writeCrl } from "./revocation.js";

export { caExists, loadCa };

/** What a new minion is given to trust this CA: `SHA256:AB:CD:...` of the CA cert. */
export function caFingerprint(paths: HomePaths): string {
  return fingerprint(loadCa(paths).certPem);
}

/** The overlord's identity CN: `overlord@<host>`. */
export function overlordName(host = hostname()): string {
  return `overlord@${dnsSafe(host)}`;
}

/** A host name reduced to DNS-name characters (for SANs of identities that are not dialled). */
export function dnsSafe(host: string): string {
  return host.toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/\.{2,}/g, ".").replace(/^[-.]+|[-.]+$/g, "") || "overlord";
}

/**
 * Creates the CA, its empty CRL, the overlord's client identity and the enrollment service's TLS cert,
 * unless a CA is already there. Returns whether anything was created.
 */
export async function initCa(paths: HomePaths, opts: { name?: string; serviceNames?: string[]; serviceIps?: string[] } = {}): Promise<boolean> {
  if (caExists(paths)) return false;
  const host = hostname();
  const ca = await createCa({ commonName: opts.name ?? `func CA ${dnsSafe(host)}` });
  for (const d of [paths.caDir, paths.signedDir, paths.csrDir, paths.revokedDir, issuedDir(paths)]) ensureDir(d);
  chmodSync(paths.caDir, 0o700);
  stampCaFormat(paths);
  writeKey(paths.caKey, ca.keyPem);
  writePublic(paths.caCert, ca.certPem);
  writePublic(revokedListFile(paths), "[]\n");
  await writeCrl(paths, []);
  // the overlord is a TLS client only; its SAN just has to be a valid name
  const name = overlordName(host);
  const overlord = await issueCert(ca, { commonName: name, role: "overlord", dnsNames: [dnsSafe(host)] });
  writeKey(paths.overlordKey, overlord.keyPem);
  writePublic(paths.overlordCert, overlord.certPem);
  writePublic(issuedCertFile(paths, name), overlord.certPem);
  // minions pin the CA, not the service's name, so these SANs only serve other clients (curl, browsers)
  const service = await issueCert(ca, {
    commonName: dnsSafe(host),
    role: "service",
    dnsNames: [dnsSafe(host), "localhost", ...(opts.serviceNames ?? [])],
    ipAddresses: ["127.0.0.1", ...(opts.serviceIps ?? [])],
  });
  writeKey(paths.serviceKey, service.keyPem);
  writePublic(paths.serviceCert, service.certPem);
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Minion certs

export interface MinionRecord {
  address?: string;
  port?: number;
}

/** An address a minion may record: an IP literal or a host name (canonical). */
export function checkAddress(address: string): string {
  if (isIP(address) !== 0) return address;
  if (isValidMinionName(address)) return address.toLowerCase();
  throw new FuncError("BadArguments", `${JSON.stringify(String(address).slice(0, 80))} is not an IP address or host name`);
}

export function checkPort(port: number | undefined): number | undefined {
  if (port === undefined || port === 0) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FuncError("BadArguments", `port ${port} is not 1-65535`);
  return port;
}

function writeAddress(paths: HomePaths, name: string, rec: MinionRecord): void {
  writeAtomic(minionAddressFile(paths, name), JSON.stringify({ ...rec, recorded: new Date().toISOString() }) + "\n");
}

/** The signed cert for `name` when its key is `publicKeyFingerprint`; null when none; refused when it has another key. */
export function existingSameKey(paths: HomePaths, name: string, publicKeyFingerprint: string): string | null {
  const pem = readIfExists(signedCertFile(paths, name));
  if (pem === null) return null;
  if (certInfo(pem).publicKeyFingerprint === publicKeyFingerprint) return pem;
  throw new FuncError("AccessDenied", `${name} already has a signed cert for another key: "func-ca revoke ${name}" or "func-ca clean ${name}" first`);
}

/** A CSR's canonical name and key, once its syntax, name and signature are checked. */
export async function readValidCsr(csrPem: string): Promise<{ name: string; publicKeyFingerprint: string }> {
  if (typeof csrPem !== "string" || csrPem.length > 16 * 1024) throw new FuncError("BadArguments", "the CSR must be a PEM string under 16 KiB");
  let info;
  try {
    info = readCsr(csrPem);
  } catch (err) {
    throw new FuncError("BadArguments", (err as Error).message, { cause: err });
  }
  const name = canonicalMinionName(info.commonName);
  if (!(await verifyCsr(csrPem))) throw new FuncError("BadArguments", "the CSR's signature does not verify");
  return { name, publicKeyFingerprint: info.publicKeyFingerprint };
}

/**
 * The SANs of a minion cert, from the CA's records only (never the CSR's): the name, and the recorded address
 * when it is an IP literal (for clients that dial by address, such as Python's xmlrpc.client). A host-name
 * address other than the name is left out: it would let this cert pass for whatever that name is.
 */
function minionSans(name: string, address: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const nameIsIp = isIP(name) !== 0;
  const ips = new Set<string>(nameIsIp ? [name] : []);
  if (address && isIP(address) !== 0) ips.add(address);
  return { dnsNames: nameIsIp ? [] : [name], ipAddresses: [...ips] };
}

/**
 * Signs a CSR for the minion it names and records the minion's address. Idempotent for the same key (the
 * existing cert comes back); refuses a name that has a signed cert for another key, a revoked name (until
 * cleaned), and a name that is a caller identity (in any case).
 */
export async function signMinionCsr(paths: HomePaths, csrPem: string, rec: MinionRecord = {}): Promise<string> {
  const { name, publicKeyFingerprint } = await readValidCsr(csrPem);
  checkFreeForMinion(paths, name);
  const same = existingSameKey(paths, name, publicKeyFingerprint);
  if (same !== null) return same;
  const address = rec.address ? checkAddress(rec.address) : undefined;
  const port = checkPort(rec.port);
  const ca = loadCa(paths);
  const certPem = await signCsr(ca, csrPem, { role: "minion", commonName: name, ...minionSans(name, address) });
  // another signer won the race for this name: same key is fine, another key is refused
  const won = await publishMinionCert(paths, name, certPem, { address, port }, () => {
    const same = existingSameKey(paths, name, publicKeyFingerprint);
    if (same !== null) return same;
    throw new FuncError("AccessDenied", `${name} already has a signed cert for another key: "func-ca clean ${name}" first`);
  });
  if (won === certPem) {
    rmSync(csrFile(paths, name), { force: true });
    rmSync(csrMetaFile(paths, name), { force: true });
  }
  return won;
}

/**
 * Publishes a minion's new cert and records its address, under the CA lock after its name is checked once
 * more (an identity issued or the name revoked since the caller's first check wins). When the name has a
 * cert already, `taken()` decides: the cert to answer with, or a throw.
 */
function publishMinionCert(paths: HomePaths, name: string, certPem: string, rec: { address: string | undefined; port: number | undefined }, taken: () => string): Promise<string> {
  return withCaLock(paths, async () => {
    checkFreeForMinion(paths, name);
    if (!publishExclusive(signedCertFile(paths, name), certPem)) return taken();
    writeAddress(paths, name, { ...(rec.address ? { address: rec.address } : {}), ...(rec.port ? { port: rec.port } : {}) });
    return certPem;
  });
}

/**
 * Issues a minion's key and cert straight from the CA, with no CSR and no enrollment round trip: for the local
 * fleet only (func-fleet --certs direct), where one process holds the CA and every minion's home. The cert is
 * the one signMinionCsr would make for this name and address, recorded the same way; refused for a revoked or
 * identity name and for a name that already has a signed cert. The key is returned for the caller to install.
 */
export async function issueMinionCert(paths: HomePaths, name: string, rec: MinionRecord = {}): Promise<CertPair> {
  const n = canonicalMinionName(checkMinionName(name));
  checkFreeForMinion(paths, n);
  const address = rec.address ? checkAddress(rec.address) : undefined;
  const port = checkPort(rec.port);
  const pair = await issueCert(loadCa(paths), { commonName: n, role: "minion", ...minionSans(n, address) });
  await publishMinionCert(paths, n, pair.certPem, { address, port }, () => {
    throw new FuncError("AccessDenied", `${n} already has a signed cert: "func-ca clean ${n}" first (or use a new fleet home)`);
  });
  return pair;
}

/**
 * Changes where the overlord dials a signed minion (`func-ca set-address`): only the admin does this, since
 * a minion's own requests never move a signed minion. Returns the new record.
 */
export function setMinionAddress(paths: HomePaths, name: string, rec: MinionRecord): MinionRecord {
  const n = canonicalMinionName(name);
  if (!existsSync(signedCertFile(paths, n))) throw new FuncError("NotFound", `no signed minion named ${n} (see "func-ca list-signed")`);
  const address = rec.address ? checkAddress(rec.address) : undefined;
  const port = checkPort(rec.port);
  const prev = readJson<MinionRecord>(minionAddressFile(paths, n)) ?? {};
  const next: MinionRecord = { ...(address ?? prev.address ? { address: address ?? prev.address! } : {}), ...(port ?? prev.port ? { port: port ?? prev.port! } : {}) };
  writeAddress(paths, n, next);
  return next;
}

/** The recorded address of a signed minion, or null when it has none (or no cert). */
export function readMinionRecord(paths: HomePaths, name: string): MinionRecord | null {
  return readJson<MinionRecord>(minionAddressFile(paths, name));
}

export function listSigned(paths: HomePaths): string[] {
  if (!existsSync(paths.signedDir)) return [];
  checkCaFormat(paths);
  return readdirSync(paths.signedDir)
    .filter((f) => f.endsWith(".crt"))
    .map((f) => basename(f, ".crt"))
    .sort();
}

export interface SignedInfo {
  name: string;
  serial: string;
  notAfter: string;
  fingerprint: string;
  address: string | null;
  port: number | null;
}

export function listSignedInfo(paths: HomePaths, glob = "*"): SignedInfo[] {
  const re = globToRegExp(glob);
  return listSigned(paths)
    .filter((n) => re.test(n))
    .flatMap((name) => {
      const pem = readIfExists(signedCertFile(paths, name));
      if (pem === null) return [];
      const info = certInfo(pem);
      const rec = readJson<MinionRecord>(minionAddressFile(paths, name)) ?? {};
      return [{ name, serial: info.serial, notAfter: info.notAfter.toISOString(), fingerprint: info.fingerprint, address: rec.address ?? null, port: rec.port ?? null }];
    });
}

export function readSigned(paths: HomePaths, name: string): string | null {
  return readIfExists(signedCertFile(paths, canonicalMinionName(checkMinionName(name))));
}

export function certSerial(pem: string): string {
  return certInfo(pem).serial;
}

// ---------------------------------------------------------------------------------------------------------------
// Caller identities

/**
 * Issues a key and cert for an extra caller (role `user`: rights from the minions' ACLs; `overlord`: every
 * method) under the canonical form of `name`, which must not be a minion's (signed or waiting) in any case.
 */
export async function issueIdentity(paths: HomePaths, name: string, opts: { role: Extract<CertRole, "user" | "overlord">; days?: number }): Promise<CertPair> {
  const n = checkCaName(name);
  if (opts.role !== "user" && opts.role !== "overlord") throw new FuncError("UsageError", `--role must be user or overlord, not ${String(opts.role)}`);
  checkFreeForIdentity(paths, n);
  const ca = loadCa(paths);
  const pair = await issueCert(ca, { commonName: n, role: opts.role, dnsNames: [dnsSafe(n)], ...(opts.days ? { days: opts.days } : {}) });
  return withCaLock(paths, async () => {
    // checked again under the CA lock, which every minion cert and waiting request is published under too:
    // a name can never end up both a minion's and an identity's
    checkFreeForIdentity(paths, n);
    if (!publishExclusive(issuedCertFile(paths, n), pair.certPem)) throw new FuncError("AccessDenied", `an identity named ${n} already exists`);
    return pair;
  });
}

export function listIssued(paths: HomePaths): string[] {
  if (!existsSync(issuedDir(paths))) return [];
  return readdirSync(issuedDir(paths))
    .filter((f) => f.endsWith(".crt"))
    .map((f) => basename(f, ".crt"))
    .sort();
}
