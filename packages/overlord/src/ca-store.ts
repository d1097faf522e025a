// The CA on disk (DESIGN section 4): pki/ca/{ca.key, ca.crt, crl.pem}, certs/<minion>.crt with the
// minion's recorded address, csrs/<minion>.csr waiting to be signed. func-ca, func-fleet and the
// enrollment service all go through these functions.

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import {
  FuncError,
  certInfo,
  checkMinionName,
  createCa,
  createCrl,
  csrFile,
  issueCert,
  minionAddressFile,
  readCsr,
  signCsr,
  signedCertFile,
  type CertPair,
  type HomePaths,
} from "@func/shared";

/** Key files are readable by their owner only. */
const KEY_MODE = 0o600;

function writeAtomic(file: string, data: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function writeKey(file: string, pem: string): void {
  writeAtomic(file, pem, KEY_MODE);
}

export function writePublic(file: string, pem: string): void {
  writeAtomic(file, pem, 0o644);
}

export function caExists(paths: HomePaths): boolean {
  return existsSync(paths.caKey) && existsSync(paths.caCert);
}

export function loadCa(paths: HomePaths): CertPair {
  if (!caExists(paths)) throw new FuncError("ConfigError", `no CA in ${paths.caDir}: run "func-ca init"`);
  return { keyPem: readFileSync(paths.caKey, "utf8"), certPem: readFileSync(paths.caCert, "utf8") };
}

/** The overlord's identity CN: `overlord@<host>`. */
export function overlordName(host = hostname()): string {
  return `overlord@${host}`;
}

/**
 * Creates the CA, its empty CRL, the overlord's client identity and the enrollment service's TLS cert,
 * unless a CA is already there. Returns whether anything was created.
 */
export async function initCa(paths: HomePaths, opts: { name?: string; serviceNames?: string[]; serviceIps?: string[] } = {}): Promise<boolean> {
  if (caExists(paths)) return false;
  const host = hostname();
  const ca = await createCa({ commonName: opts.name ?? `func CA ${host}` });
  for (const d of [paths.signedDir, paths.csrDir, paths.revokedDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeKey(paths.caKey, ca.keyPem);
  writePublic(paths.caCert, ca.certPem);
  writePublic(paths.crl, await createCrl(ca, []));
  // the overlord is a TLS client only; its SAN just has to be a valid name
  const overlord = await issueCert(ca, { commonName: overlordName(host), role: "overlord", dnsNames: [dnsSafe(host)] });
  writeKey(paths.overlordKey, overlord.keyPem);
  writePublic(paths.overlordCert, overlord.certPem);
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

/** A host name reduced to DNS-name characters (for SANs of identities that are not dialled). */
export function dnsSafe(host: string): string {
  return host.toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "overlord";
}

export interface MinionRecord {
  address?: string;
  port?: number;
}

function writeAddress(paths: HomePaths, name: string, rec: MinionRecord): void {
  writeAtomic(minionAddressFile(paths, name), JSON.stringify({ ...rec, recorded: new Date().toISOString() }) + "\n");
}

/** Signs a CSR for `name` and records the minion's address; refuses a name that has a different signed cert. */
export async function signMinionCsr(paths: HomePaths, csrPem: string, rec: MinionRecord = {}): Promise<string> {
  const csr = await readCsr(csrPem);
  const name = checkMinionName(csr.commonName);
  const existing = signedCertFile(paths, name);
  if (existsSync(existing)) {
    throw new FuncError("EnrollError", `${name} already has a signed cert: revoke or clean it first ("func-ca clean ${name}")`);
  }
  const ca = loadCa(paths);
  const ips = rec.address && /^[\d.]+$|:/.test(rec.address) ? [rec.address] : [];
  const certPem = await signCsr(ca, csrPem, { role: "minion", commonName: name, dnsNames: [name], ipAddresses: ips });
  writePublic(existing, certPem);
  writeAddress(paths, name, rec);
  rmSync(csrFile(paths, name), { force: true });
  rmSync(`${csrFile(paths, name)}.json`, { force: true });
  return certPem;
}

export function listSigned(paths: HomePaths): string[] {
  if (!existsSync(paths.signedDir)) return [];
  return readdirSync(paths.signedDir)
    .filter((f) => f.endsWith(".crt"))
    .map((f) => basename(f, ".crt"))
    .sort();
}

export function readSigned(paths: HomePaths, name: string): string | null {
  const f = signedCertFile(paths, checkMinionName(name));
  return existsSync(f) ? readFileSync(f, "utf8") : null;
}

export function certSerial(pem: string): string {
  return certInfo(pem).serial;
}

export function revokedDir(paths: HomePaths): string {
  return join(paths.revokedDir);
}
