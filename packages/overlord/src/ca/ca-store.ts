// The CA on disk (DESIGN section 4): pki/ca/{ca.key, ca.crt, crl.pem}, certs/<minion>.crt with the minion's
// recorded address, csrs/<minion>.csr waiting to be signed, revoked/ and issued/ (extra caller identities).
// func-ca, func-fleet and the enrollment service all go through these functions; none of them prints.

import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import {
  FuncError,
  KEY_FILE_MODE,
  PRIVATE_DIR_MODE,
  PUBLIC_FILE_MODE,
  certInfo,
  checkMinionName,
  createCa,
  createCrl,
  crlNextUpdate,
  csrFile,
  fingerprint,
  globToRegExp,
  isValidMinionName,
  issueCert,
  minionAddressFile,
  readCsr,
  signCsr,
  signedCertFile,
  tempFileName,
  verifyCsr,
  writeFileAtomic,
  type CertPair,
  type CertRole,
  type HomePaths,
  withHostLock,
} from "@func/shared";

/** Lifetime of each CRL this CA writes, days. */
export const CRL_DAYS = 30;
/** A CRL with less than this much life left is re-signed by whoever uses the CA next (serve checks hourly), ms. */
const CRL_REFRESH_BEFORE_MS = (CRL_DAYS / 2) * 24 * 60 * 60 * 1000;
/** Most requests left waiting for `func-ca sign` at once: more answer LimitExceeded (bounds disk use by strangers). */
export const MAX_WAITING_CSRS = 1000;
/** How long a CA change waits for another process's lock, ms. */
const LOCK_WAIT_MS = 10_000;
/** Identity names (overlord@host, ops1, ci-runner): a file name and a CN, so no `/`, no `..`, no spaces. */
const IDENTITY_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

// ---------------------------------------------------------------------------------------------------------------
// Files

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

function writeAtomic(file: string, data: string, mode = PUBLIC_FILE_MODE): void {
  writeFileAtomic(file, data, mode);
}

/** Writes `file` only if it does not exist yet (a hard link is atomic and exclusive); false when it already did. */
function publishExclusive(file: string, data: string, mode = PUBLIC_FILE_MODE): boolean {
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

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function readJson<T>(file: string): T | null {
  const text = readIfExists(file);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The list of revoked serials the CRL is built from (pki/ca/revoked.json). */
function revokedListFile(paths: HomePaths): string {
  return join(paths.caDir, "revoked.json");
}

/** Extra caller identities (the overlord's own, `func-ca issue`): their certs are kept so they can be revoked by name. */
function issuedDir(paths: HomePaths): string {
  return join(paths.caDir, "issued");
}

function issuedCertFile(paths: HomePaths, name: string): string {
  return join(issuedDir(paths), `${name}.crt`);
}

function revokedCertFile(paths: HomePaths, name: string): string {
  return join(paths.revokedDir, `${name}.crt`);
}

function csrMetaFile(paths: HomePaths, name: string): string {
  return `${csrFile(paths, name)}.json`;
}

// ---------------------------------------------------------------------------------------------------------------
// The CA lock: revocations and CRL writes are read-modify-write of revoked.json, and func-ca (one process) and
// func-ca serve (another) both do them. Signing needs no lock: a cert is published with an exclusive link.

/** The host lock (shared host-lock.ts) keyed by the CA's directory: freed by the kernel if its holder dies. */
function withCaLock<T>(paths: HomePaths, fn: () => Promise<T>): Promise<T> {
  return withHostLock(`ca:${resolve(paths.caDir)}`, fn, LOCK_WAIT_MS);
}

// ---------------------------------------------------------------------------------------------------------------
// The CA

export function caExists(paths: HomePaths): boolean {
  return existsSync(paths.caKey) && existsSync(paths.caCert);
}

export function loadCa(paths: HomePaths): CertPair {
  if (!caExists(paths)) throw new FuncError("ConfigError", `no CA in ${paths.caDir}: run "func-ca init"`);
  return { keyPem: readFileSync(paths.caKey, "utf8"), certPem: readFileSync(paths.caCert, "utf8") };
}

/** What a new minion is given to trust this CA: `SHA256:AB:CD:...` of the CA cert. */
export function caFingerprint(paths: HomePaths): string {
  if (!caExists(paths)) throw new FuncError("ConfigError", `no CA in ${paths.caDir}: run "func-ca init"`);
  return fingerprint(readFileSync(paths.caCert, "utf8"));
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
  chmodSync(paths.caDir, PRIVATE_DIR_MODE);
  writeKey(paths.caKey, ca.keyPem);
  writePublic(paths.caCert, ca.certPem);
  writePublic(revokedListFile(paths), "[]\n");
  writePublic(paths.crl, await createCrl(ca, [], { nextUpdateDays: CRL_DAYS }));
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
// Names

export function isValidIdentityName(name: unknown): name is string {
  return typeof name === "string" && IDENTITY_NAME_RE.test(name) && !name.includes("..");
}

/** A name `func-ca revoke/clean/issue` may take: a minion name or an identity name such as overlord@host. */
export function checkCaName(name: unknown): string {
  if (isValidMinionName(name) || isValidIdentityName(name)) return name;
  const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
  throw new FuncError("BadArguments", `${shown} is not a valid name (letters, digits, ".", "-", "_", "@"; no "/" or "..")`);
}

/** An address a minion may record: an IP literal or a host name. */
function checkAddress(address: string): string {
  if (isIP(address) !== 0 || isValidMinionName(address)) return address;
  throw new FuncError("BadArguments", `${JSON.stringify(String(address).slice(0, 80))} is not an IP address or host name`);
}

function checkPort(port: number | undefined): number | undefined {
  if (port === undefined || port === 0) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FuncError("BadArguments", `port ${port} is not 1-65535`);
  return port;
}

/** A predicate for the `autosign` setting: a name matching any glob is signed without `func-ca sign`. */
export function autosignMatcher(globs: readonly string[]): (name: string) => boolean {
  const exact = new Set(globs.filter((g) => !/[*?[]/.test(g)).map((g) => g.toLowerCase()));
  const patterns = globs.filter((g) => /[*?[]/.test(g)).map((g) => globToRegExp(g));
  return (name) => exact.has(name.toLowerCase()) || patterns.some((re) => re.test(name));
}

// ---------------------------------------------------------------------------------------------------------------
// Minion requests and certs

export interface MinionRecord {
  address?: string;
  port?: number;
}

export interface EnrollRequest extends MinionRecord {
  /** the address the request came from (for the admin's eyes) */
  source?: string;
}

export interface WaitingCsr {
  name: string;
  /** of the requested public key: what the minion printed when it asked */
  fingerprint: string;
  address: string | null;
  port: number | null;
  source: string | null;
  requested: string | null;
  lastSeen: string | null;
}

export type SubmitResult = { status: "signed"; name: string; certPem: string } | { status: "waiting"; name: string; fingerprint: string };

interface CsrMeta {
  address?: string;
  port?: number;
  source?: string;
  requested?: string;
  lastSeen?: string;
}

function writeAddress(paths: HomePaths, name: string, rec: MinionRecord): void {
  writeAtomic(minionAddressFile(paths, name), JSON.stringify({ ...rec, recorded: new Date().toISOString() }) + "\n");
}

/** Refuses a name that is revoked (until cleaned) or taken by a caller identity. */
function checkNameFree(paths: HomePaths, name: string): void {
  if (existsSync(revokedCertFile(paths, name))) {
    throw new FuncError("AccessDenied", `${name} was revoked: "func-ca clean ${name}" lets it enroll again`);
  }
  if (existsSync(issuedCertFile(paths, name))) throw new FuncError("AccessDenied", `${name} is the name of a caller identity, not a minion`);
}

/** The signed cert for `name` when its key is `publicKeyFingerprint`; null when none; refused when it has another key. */
function existingSameKey(paths: HomePaths, name: string, publicKeyFingerprint: string): string | null {
  const pem = readIfExists(signedCertFile(paths, name));
  if (pem === null) return null;
  if (certInfo(pem).publicKeyFingerprint === publicKeyFingerprint) return pem;
  throw new FuncError("AccessDenied", `${name} already has a signed cert for another key: "func-ca revoke ${name}" or "func-ca clean ${name}" first`);
}

async function readValidCsr(csrPem: string): Promise<{ name: string; publicKeyFingerprint: string }> {
  if (typeof csrPem !== "string" || csrPem.length > 16 * 1024) throw new FuncError("BadArguments", "the CSR must be a PEM string under 16 KiB");
  let info;
  try {
    info = readCsr(csrPem);
  } catch (err) {
    throw new FuncError("BadArguments", (err as Error).message, { cause: err });
  }
  const name = checkMinionName(info.commonName).toLowerCase();
  if (!(await verifyCsr(csrPem))) throw new FuncError("BadArguments", "the CSR's signature does not verify");
  return { name, publicKeyFingerprint: info.publicKeyFingerprint };
}

/**
 * Signs a CSR for the minion it names and records the minion's address. Idempotent for the same key (the
 * existing cert comes back); refuses a name that has a signed cert for another key, a revoked name (until
 * cleaned), and a name that is a caller identity.
 */
export async function signMinionCsr(paths: HomePaths, csrPem: string, rec: MinionRecord = {}): Promise<string> {
  const { name, publicKeyFingerprint } = await readValidCsr(csrPem);
  checkNameFree(paths, name);
  const same = existingSameKey(paths, name, publicKeyFingerprint);
  if (same !== null) return same;
  const address = rec.address ? checkAddress(rec.address) : undefined;
  const port = checkPort(rec.port);
  const ca = loadCa(paths);
  const ips = address && isIP(address) !== 0 ? [address] : [];
  const dns = [name, ...(address && isIP(address) === 0 && address.toLowerCase() !== name ? [address.toLowerCase()] : [])];
  const certPem = await signCsr(ca, csrPem, { role: "minion", commonName: name, dnsNames: dns, ipAddresses: ips });
  if (!publishExclusive(signedCertFile(paths, name), certPem)) {
    // another signer won the race for this name: same key is fine, another key is refused
    const won = existingSameKey(paths, name, publicKeyFingerprint);
    if (won !== null) return won;
  }
  writeAddress(paths, name, { ...(address ? { address } : {}), ...(port ? { port } : {}) });
  rmSync(csrFile(paths, name), { force: true });
  rmSync(csrMetaFile(paths, name), { force: true });
  return certPem;
}

/**
 * What the enrollment service does with a request: sign it at once (autosign, or the same key is already signed),
 * keep it waiting for `func-ca sign`, or refuse it (a throw: AccessDenied, BadArguments, LimitExceeded).
 * A repeat of a waiting request with the same key keeps waiting; another key for a waiting name is refused.
 */
export async function submitCsr(
  paths: HomePaths,
  csrPem: string,
  req: EnrollRequest,
  opts: { autosign?: (name: string) => boolean; maxWaiting?: number } = {},
): Promise<SubmitResult> {
  const { name, publicKeyFingerprint } = await readValidCsr(csrPem);
  const address = req.address ? checkAddress(req.address) : undefined;
  const port = checkPort(req.port);
  checkNameFree(paths, name);
  const signed = existingSameKey(paths, name, publicKeyFingerprint);
  if (signed !== null) return { status: "signed", name, certPem: signed };

  const rec: MinionRecord = { ...(address ? { address } : {}), ...(port ? { port } : {}) };
  const waitingPem = readIfExists(csrFile(paths, name));
  if (waitingPem !== null) {
    let waitingKey: string | null = null;
    try {
      waitingKey = readCsr(waitingPem).publicKeyFingerprint;
    } catch {
      // a damaged waiting file: treated as another key, the admin cleans it
    }
    if (waitingKey !== publicKeyFingerprint) {
      throw new FuncError("AccessDenied", `another request for ${name} (another key) is waiting: "func-ca clean ${name}" first`);
    }
  }
  if (opts.autosign?.(name)) {
    const certPem = await signMinionCsr(paths, csrPem, rec);
    return { status: "signed", name, certPem };
  }
  const now = new Date().toISOString();
  if (waitingPem === null) {
    if (countWaiting(paths) >= (opts.maxWaiting ?? MAX_WAITING_CSRS)) {
      throw new FuncError("LimitExceeded", "too many requests are waiting to be signed: try again later");
    }
    if (!publishExclusive(csrFile(paths, name), csrPem)) {
      // a concurrent first request for this name: decide again against what it wrote
      return submitCsr(paths, csrPem, req, opts);
    }
  }
  const prev = readJson<CsrMeta>(csrMetaFile(paths, name)) ?? {};
  const meta: CsrMeta = { ...rec, ...(req.source ? { source: req.source } : {}), requested: prev.requested ?? now, lastSeen: now };
  writeAtomic(csrMetaFile(paths, name), JSON.stringify(meta) + "\n");
  return { status: "waiting", name, fingerprint: publicKeyFingerprint };
}

function countWaiting(paths: HomePaths): number {
  try {
    return readdirSync(paths.csrDir).filter((f) => f.endsWith(".csr")).length;
  } catch {
    return 0;
  }
}

export function listWaiting(paths: HomePaths): WaitingCsr[] {
  if (!existsSync(paths.csrDir)) return [];
  const out: WaitingCsr[] = [];
  for (const f of readdirSync(paths.csrDir).filter((n) => n.endsWith(".csr")).sort()) {
    const name = basename(f, ".csr");
    if (!isValidMinionName(name)) continue;
    let fp = "unreadable";
    try {
      fp = readCsr(readFileSync(join(paths.csrDir, f), "utf8")).publicKeyFingerprint;
    } catch {
      // shown as unreadable: "func-ca clean" removes it
    }
    const meta = readJson<CsrMeta>(csrMetaFile(paths, name)) ?? {};
    out.push({
      name,
      fingerprint: fp,
      address: meta.address ?? null,
      port: meta.port ?? null,
      source: meta.source ?? null,
      requested: meta.requested ?? null,
      lastSeen: meta.lastSeen ?? null,
    });
  }
  return out;
}

/** Signs the waiting request for `name` with the address it asked for; returns the cert's path. */
export async function signWaiting(paths: HomePaths, name: string): Promise<string> {
  const n = checkMinionName(name);
  const csrPem = readIfExists(csrFile(paths, n));
  if (csrPem === null) throw new FuncError("NotFound", `no request from ${n} is waiting (see "func-ca list")`);
  const meta = readJson<CsrMeta>(csrMetaFile(paths, n)) ?? {};
  await signMinionCsr(paths, csrPem, { ...(meta.address ? { address: meta.address } : {}), ...(meta.port ? { port: meta.port } : {}) });
  return signedCertFile(paths, n);
}

export function listSigned(paths: HomePaths): string[] {
  if (!existsSync(paths.signedDir)) return [];
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
  return readIfExists(signedCertFile(paths, checkMinionName(name)));
}

export function certSerial(pem: string): string {
  return certInfo(pem).serial;
}

// ---------------------------------------------------------------------------------------------------------------
// Caller identities

/** Issues a key and cert for an extra caller (role `user`: rights from the minions' ACLs; `overlord`: every method). */
export async function issueIdentity(paths: HomePaths, name: string, opts: { role: Extract<CertRole, "user" | "overlord">; days?: number }): Promise<CertPair> {
  const n = checkCaName(name);
  if (opts.role !== "user" && opts.role !== "overlord") throw new FuncError("UsageError", `--role must be user or overlord, not ${String(opts.role)}`);
  if (existsSync(signedCertFile(paths, n)) || existsSync(csrFile(paths, n))) throw new FuncError("AccessDenied", `${n} is a minion's name`);
  if (existsSync(revokedCertFile(paths, n))) throw new FuncError("AccessDenied", `${n} was revoked: "func-ca clean ${n}" frees the name`);
  const ca = loadCa(paths);
  const pair = await issueCert(ca, { commonName: n, role: opts.role, dnsNames: [dnsSafe(n)], ...(opts.days ? { days: opts.days } : {}) });
  if (!publishExclusive(issuedCertFile(paths, n), pair.certPem)) throw new FuncError("AccessDenied", `an identity named ${n} already exists`);
  return pair;
}

export function listIssued(paths: HomePaths): string[] {
  if (!existsSync(issuedDir(paths))) return [];
  return readdirSync(issuedDir(paths))
    .filter((f) => f.endsWith(".crt"))
    .map((f) => basename(f, ".crt"))
    .sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Revocation and the CRL

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

async function writeCrl(paths: HomePaths, list: readonly RevokedEntry[]): Promise<void> {
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
  const identityFile = issuedCertFile(paths, name);
  const file = existsSync(minionFile) ? minionFile : existsSync(identityFile) ? identityFile : null;
  if (file === null) {
    if (existsSync(revokedCertFile(paths, name))) throw new FuncError("NotFound", `${name} is already revoked`);
    throw new FuncError("NotFound", `no signed cert or identity named ${name}`);
  }
  const pem = readFileSync(file, "utf8");
  const serial = certInfo(pem).serial;
  const list = readRevokedList(paths);
  if (!list.some((e) => e.serial === serial)) list.push({ serial, name, revokedAt: new Date().toISOString() });
  // the CRL first: once the cert leaves certs/ nothing else remembers its serial
  writeAtomic(revokedListFile(paths), JSON.stringify(list, null, 1) + "\n");
  await writeCrl(paths, list);
  renameSync(file, revokedCertFile(paths, name));
  const addr = minionAddressFile(paths, name);
  if (file === minionFile && existsSync(addr)) renameSync(addr, join(paths.revokedDir, `${name}.json`));
  return { name, serial, kind: file === minionFile ? "minion" : "identity" };
}

/**
 * Revokes the minion or identity called `name`: its serial goes into the CRL and its cert moves to revoked/,
 * which takes a minion out of the target universe at once. The name stays blocked until `cleanName`.
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
    const revoked = existsSync(signedCertFile(paths, n)) || existsSync(issuedCertFile(paths, n)) ? await revokeLocked(paths, n) : null;
    const removed: string[] = [];
    for (const f of [csrFile(paths, n), csrMetaFile(paths, n), revokedCertFile(paths, n), join(paths.revokedDir, `${n}.json`)]) {
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
 * Re-signs the CRL when it is missing, unreadable or past half its life (an expired CRL makes every TLS peer
 * that enforces it refuse everyone). Returns whether it wrote one. Needs the CA key.
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
