// The fleet's PKI, in the role of Func's certmaster: a CA, EC P-256 keys and CSRs, leaf certificates whose
// OU carries the peer's role, CRLs, and the readers the enrollment server and the TLS layers use.
// Everything is PEM (PKCS#8 keys) and feeds Node's `tls` options (`key`, `cert`, `ca`, `crl`) unchanged.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { inspect } from "node:util";
import type * as X509 from "@peculiar/x509";
import { FuncError } from "./errors.js";
import { signLeaf } from "./leaf-der.js";

const CRYPTO = webcrypto;

let x509lib: typeof X509 | undefined;
// @peculiar/x509 takes ~85 ms to load, more than a whole 10-host `func` run: it is loaded on first use, so the
// CLI's calls and a minion's requests (which never touch it) do not pay for it.
const x509 = new Proxy({} as typeof X509, {
  get(_target, key) {
    if (!x509lib) {
      x509lib = createRequire(import.meta.url)("@peculiar/x509") as typeof X509;
      // the library's default provider is whatever global `crypto` it finds at load; pin Node's webcrypto so
      // signing never depends on load order or on another module swapping the provider
      x509lib.cryptoProvider.set(CRYPTO);
    }
    return Reflect.get(x509lib, key) as unknown;
  },
});

/** minion: a managed host; overlord: the admin identity, allowed every method; service: the enrollment server;
 * user: an extra caller identity whose rights come from the minions' ACLs only. */

/** A TLS identity as PEM text, for either side of mutual TLS: own key and cert, the CA to trust, the CRL to enforce. */
export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
  crl?: string;
}

export type CertRole = "minion" | "overlord" | "service" | "user";

export interface CertPair {
  keyPem: string;
  certPem: string;
}

export interface CertInfo {
  commonName: string;
  /** the role from the subject's OU; null for certs this CA did not issue as a leaf (the CA, foreign certs) */
  role: CertRole | null;
  /** canonical serial, see {@link canonicalSerial} */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** see {@link fingerprint} */
  fingerprint: string;
  /** of the SubjectPublicKeyInfo DER, as CsrInfo.publicKeyFingerprint: equal when cert and CSR share a key */
  publicKeyFingerprint: string;
  issuerCommonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  isCa: boolean;
}

export interface CsrInfo {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** of the CSR's DER */
  fingerprint: string;
  /** of the SubjectPublicKeyInfo DER: stable across re-generated CSRs for the same key */
  publicKeyFingerprint: string;
}

/** The roles a leaf can carry in its OU. */
const CERT_ROLES: ReadonlySet<string> = new Set<CertRole>(["minion", "overlord", "service", "user"]);
/** Organisation written into every subject this CA builds. */
const ORGANISATION = "func";
/** CA lifetime when the caller gives none. */
const DEFAULT_CA_DAYS = 3650;
/** Leaf lifetime when the caller gives none: the CA/Browser ceiling that clients still accept without complaint. */
const DEFAULT_LEAF_DAYS = 825;
/** CRL validity when the caller gives none. */
const DEFAULT_CRL_DAYS = 30;
/** notBefore / thisUpdate are backdated by this much so a peer whose clock runs a little slow accepts a fresh cert. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** X.520 upper bound for a commonName. */
const MAX_CN_LENGTH = 64;
/** Key and signature algorithms: ECDSA on P-256 with SHA-256 everywhere. */
const EC_KEY_ALG: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGN_ALG: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
/** Extension OIDs read by string: the CSR reader ignores extension classes (it matches on OID only). */
const OID_SAN = "2.5.29.17";
const OID_O = "2.5.4.10";
const OID_OU = "2.5.4.11";
const OID_CN = "2.5.4.3";
const OID_CRL_NUMBER = "2.5.29.20";
/** A DNS label (underscores tolerated for internal names); wildcards are never signed. */
const DNS_NAME_RE = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
/** One PEM block; the label is captured so each reader can insist on its own. */
const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END \1-----/;

function pkiError(message: string, cause?: unknown): FuncError {
  return cause === undefined ? new FuncError("PkiError", message) : new FuncError("PkiError", message, { cause });
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding helpers

/** The DER of the first PEM block with one of `labels`; a PkiError for anything else (the input is never echoed). */
function pemToDer(pem: string, labels: readonly string[], what: string): Uint8Array {
  if (typeof pem !== "string") throw pkiError(`${what}: expected a PEM string`);
  const m = PEM_RE.exec(pem);
  if (!m || !labels.includes(m[1]!)) throw pkiError(`${what}: not a PEM ${labels[0]}`);
  const der = Buffer.from(m[2]!.replace(/\s+/g, ""), "base64");
  if (der.length === 0 || der[0] !== 0x30) throw pkiError(`${what}: PEM body is not DER`);
  return new Uint8Array(der);
}

function derToPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

function sha256Colons(der: Uint8Array | ArrayBuffer): string {
  const hex = createHash("sha256").update(der instanceof Uint8Array ? der : new Uint8Array(der)).digest("hex").toUpperCase();
  return "SHA256:" + (hex.match(/../g) ?? []).join(":");
}

/**
 * The one serial form used everywhere: lowercase hex of the minimal unsigned big-endian bytes, even length,
 * no leading "00" byte (what Node's `getPeerCertificate().serialNumber` gives, lowercased).
 */
export function canonicalSerial(hex: string): string {
  const clean = hex.replace(/:/g, "");
  if (!/^[0-9A-Fa-f]+$/.test(clean)) throw pkiError("serial: not hexadecimal");
  const s = BigInt("0x" + clean).toString(16);
  return s.length % 2 === 0 ? s : "0" + s;
}

/** The DER INTEGER contents for a positive canonical serial (a 00 byte keeps a high first bit from reading as negative). */
function serialIntegerHex(serial: string): string {
  const canon = canonicalSerial(serial);
  if (/^0+$/.test(canon)) throw pkiError("serial: must be positive");
  return parseInt(canon.slice(0, 2), 16) >= 0x80 ? "00" + canon : canon;
}

export function randomSerial(): string {
  const bytes = CRYPTO.getRandomValues(new Uint8Array(16));
  // Clear the sign bit (positive without a pad byte) and set the next one so the canonical form is always 16 bytes.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString("hex");
}

/** DER of a non-negative INTEGER (CRL numbers). */
function derInteger(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = "00" + hex;
  const body = Buffer.from(hex, "hex");
  return new Uint8Array([0x02, body.length, ...body]);
}

/** Drops milliseconds: X.509 times carry whole seconds, so what we return matches what certInfo reads back. */
function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function checkDate(d: Date, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw pkiError(`${what}: not a valid date`);
  return wholeSeconds(d);
}

function checkDays(days: number, what: string): number {
  if (typeof days !== "number" || !Number.isFinite(days) || days <= 0) throw pkiError(`${what}: must be a positive number of days`);
  return days;
}

/** A CertPair / key+CSR object whose key stays out of util.inspect (console.log, mocha diffs); JSON keeps it, for persistence. */
function withHiddenKey<T extends { keyPem: string }>(obj: T): T {
  Object.defineProperty(obj, inspect.custom, {
    enumerable: false,
    value: () => ({ ...obj, keyPem: "[redacted]" }),
  });
  return obj;
}

// ---------------------------------------------------------------------------------------------------------------
// Names and SANs

function checkCommonName(cn: unknown): string {
  if (typeof cn !== "string" || cn.length === 0 || cn.length > MAX_CN_LENGTH) {
    throw pkiError(`commonName: must be 1-${MAX_CN_LENGTH} characters`);
  }
  for (const ch of cn) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) throw pkiError("commonName: control characters are not allowed");
  }
  return cn;
}

function checkRole(role: unknown): CertRole {
  if (typeof role !== "string" || !CERT_ROLES.has(role)) throw pkiError(`role: must be one of ${[...CERT_ROLES].join(", ")}`);
  return role as CertRole;
}

function checkDnsNames(names: readonly string[]): string[] {
  for (const n of names) {
    if (typeof n !== "string" || !DNS_NAME_RE.test(n) || isIP(n) !== 0) throw pkiError(`dnsNames: ${JSON.stringify(String(n))} is not a DNS name`);
  }
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

function checkIpAddresses(ips: readonly string[]): string[] {
  for (const ip of ips) {
    if (typeof ip !== "string" || isIP(ip) === 0) throw pkiError(`ipAddresses: ${JSON.stringify(String(ip))} is not an IP address`);
  }
  return [...new Set(ips)];
}

// Values go in as explicit UTF8String objects: the library's plain-string path unescapes backslashes, strips quotes
// and turns a leading "#" into raw hex, which would let a requested CN rewrite the subject.
function subjectName(commonName: string, role?: CertRole): X509.Name {
  const name: X509.JsonNameParams = [{ O: [{ utf8String: ORGANISATION }] }];
  if (role) name.push({ OU: [{ utf8String: role }] });
  name.push({ CN: [{ utf8String: commonName }] });
  return new x509.Name(name);
}

function sanExtension(dnsNames: readonly string[], ipAddresses: readonly string[]): X509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension([
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ]);
}

function readSan(ext: X509.Extension | null): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  if (!ext) return { dnsNames, ipAddresses };
  // Rebuilt from the raw extension: the CSR reader hands back a plain Extension, not the SAN class.
  const san = new x509.SubjectAlternativeNameExtension(ext.rawData);
  for (const n of san.names.items) {
    if (n.type === "dns") dnsNames.push(n.value);
    else if (n.type === "ip") ipAddresses.push(n.value);
  }
  return { dnsNames, ipAddresses };
}

function firstField(name: X509.Name, field: string): string {
  return name.getField(field)[0] ?? "";
}

// ---------------------------------------------------------------------------------------------------------------
// Keys

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await CRYPTO.subtle.generateKey(EC_KEY_ALG, true, ["sign", "verify"]));
}

async function keyPairToPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return derToPem(await CRYPTO.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
}

/** A loaded CA: its cert, its key (for the library and for node:crypto), and what a leaf copies from it. */
interface CaSigner {
  cert: X509.X509Certificate;
  key: webcrypto.CryptoKey;
  keyObject: KeyObject;
  subjectDer: Uint8Array;
  /** the CA's subject key identifier, or null when its cert has none */
  keyId: Uint8Array | null;
}

/** The last CA signer loaded: one CA signs a whole fleet, and importing its key costs about as much as a signature. */
let lastSigner: { keyPem: string; certPem: string; signer: Promise<CaSigner> } | null = null;

function loadCaSigner(ca: CertPair): Promise<CaSigner> {
  if (lastSigner && lastSigner.keyPem === ca.keyPem && lastSigner.certPem === ca.certPem) return lastSigner.signer;
  const signer = loadCaSignerUncached(ca);
  lastSigner = { keyPem: ca.keyPem, certPem: ca.certPem, signer };
  // a failed load is not remembered: the next caller gets the error afresh
  signer.catch(() => {
    if (lastSigner?.signer === signer) lastSigner = null;
  });
  return signer;
}

/** Loads the CA's signing key and checks it is the key of `caCert` (a mismatched pair would sign certs nobody can verify). */
async function loadCaSignerUncached(ca: CertPair): Promise<CaSigner> {
  const cert = parseCert(ca.certPem, "CA certificate");
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw pkiError("CA certificate: not a CA (basicConstraints CA:false or missing)");
  const der = pemToDer(ca.keyPem, ["PRIVATE KEY", "EC PRIVATE KEY"], "CA key");
  let spki: Buffer;
  let pkcs8: Buffer;
  try {
    const priv = createPrivateKey({ key: Buffer.from(der), format: "der", type: ca.keyPem.includes("BEGIN EC PRIVATE KEY") ? "sec1" : "pkcs8" });
    if (priv.asymmetricKeyType !== "ec" || priv.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw pkiError("CA key: must be an EC P-256 key");
    }
    spki = createPublicKey(priv).export({ type: "spki", format: "der" });
    pkcs8 = priv.export({ type: "pkcs8", format: "der" });
  } catch (err) {
    if (err instanceof FuncError) throw err;
    throw pkiError("CA key: unreadable private key", err);
  }
  if (!Buffer.from(cert.publicKey.rawData).equals(spki)) throw pkiError("CA key: does not match the CA certificate");
  const key = await CRYPTO.subtle.importKey("pkcs8", pkcs8, EC_KEY_ALG, false, ["sign"]);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyObject = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  return { cert, key, keyObject, subjectDer: new Uint8Array(cert.subjectName.toArrayBuffer()), keyId: ski ? Buffer.from(ski.keyId, "hex") : null };
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

function parseCert(pem: string, what = "certificate"): X509.X509Certificate {
  const der = pemToDer(pem, ["CERTIFICATE"], what);
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw pkiError(`${what}: malformed`, err);
  }
}

function parseCsr(pem: string): X509.Pkcs10CertificateRequest {
  const der = pemToDer(pem, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "CSR");
  try {
    return new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw pkiError("CSR: malformed", err);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

export async function createCa(opts: { commonName: string; days?: number }): Promise<CertPair> {
  const commonName = checkCommonName(opts.commonName);
  const days = checkDays(opts.days ?? DEFAULT_CA_DAYS, "days");
  const keys = await newKeyPair();
  const now = Date.now();
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, CRYPTO);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: subjectName(commonName),
      notBefore: wholeSeconds(new Date(now - CLOCK_SKEW_MS)),
      notAfter: wholeSeconds(new Date(now + days * DAY_MS)),
      signingAlgorithm: EC_SIGN_ALG,
      keys,
      extensions: [
        // pathLen 0: this CA signs leaves only, never intermediates.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        ski,
        // Optional on a self-signed root, but strict verifiers (Python 3.13+) want it everywhere.
        new x509.AuthorityKeyIdentifierExtension(ski.keyId),
      ],
    },
    CRYPTO,
  );
  return withHiddenKey({ keyPem: await keyPairToPem(keys), certPem: derToPem(cert.rawData, "CERTIFICATE") });
}

export async function createKeyAndCsr(opts: { commonName: string; dnsNames?: string[]; ipAddresses?: string[] }): Promise<{ keyPem: string; csrPem: string }> {
  const commonName = checkCommonName(opts.commonName);
  const dnsNames = checkDnsNames(opts.dnsNames ?? []);
  const ipAddresses = checkIpAddresses(opts.ipAddresses ?? []);
  const keys = await newKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: new x509.Name([{ CN: [{ utf8String: commonName }] }]),
      keys,
      signingAlgorithm: EC_SIGN_ALG,
      extensions: dnsNames.length + ipAddresses.length > 0 ? [sanExtension(dnsNames, ipAddresses)] : [],
    },
    CRYPTO,
  );
  return withHiddenKey({ keyPem: await keyPairToPem(keys), csrPem: derToPem(csr.rawData, "CERTIFICATE REQUEST") });
}

/**
 * Verifies the CSR signature, then signs. The subject is rebuilt as CN=<name>, O=func, OU=<role> (the role is carried
 * in OU so a TLS peer's role is readable from getPeerCertificate().subject.OU). SANs: the caller passes the SANs to put
 * in (policy is the caller's); default: the CSR's CN (as an IP SAN when it is an address) plus the CSR's DNS/IP SANs.
 * Wildcard and malformed names are refused, and so is a leaf that would end up with no SAN at all.
 */
export async function signCsr(
  ca: CertPair,
  csrPem: string,
  opts: { role: CertRole; commonName?: string; dnsNames?: string[]; ipAddresses?: string[]; days?: number; notBefore?: Date; notAfter?: Date; serial?: string },
): Promise<string> {
  const role = checkRole(opts.role);
  const csr = parseCsr(csrPem);
  let signatureOk: boolean;
  try {
    signatureOk = await csr.verify(CRYPTO);
  } catch (err) {
    throw pkiError("CSR: signature could not be checked (unsupported key?)", err);
  }
  if (!signatureOk) throw pkiError("CSR: signature does not verify");

  const csrCn = firstField(csr.subjectName, "CN");
  const commonName = checkCommonName(opts.commonName ?? csrCn);
  let dnsNames: string[];
  let ipAddresses: string[];
  if (opts.dnsNames !== undefined || opts.ipAddresses !== undefined) {
    dnsNames = opts.dnsNames ?? [];
    ipAddresses = opts.ipAddresses ?? [];
  } else {
    let requested: { dnsNames: string[]; ipAddresses: string[] };
    try {
      requested = readSan(csr.getExtension(OID_SAN));
    } catch (err) {
      throw pkiError("CSR: unreadable subjectAltName", err);
    }
    const cnIsIp = isIP(commonName) !== 0;
    dnsNames = [...(cnIsIp ? [] : [commonName]), ...requested.dnsNames];
    ipAddresses = [...(cnIsIp ? [commonName] : []), ...requested.ipAddresses];
  }
  return leafCert(ca, csr.publicKey, { ...opts, role, commonName, dnsNames, ipAddresses });
}

/**
 * The leaf certificate for `publicKey` signed by the CA: subject CN=<name>, O=func, OU=<role>, the given SANs
 * (checked; at least one), serverAuth and clientAuth. signCsr and issueCert both end here. A key given as its
 * SPKI DER (issueCert) is certified by leaf-der.ts, the same TBS written directly; else by the library.
 */
async function leafCert(
  ca: CertPair,
  publicKey: X509.PublicKey | webcrypto.CryptoKey | Uint8Array,
  opts: { role: CertRole; commonName: string; dnsNames: string[]; ipAddresses: string[]; days?: number; notBefore?: Date; notAfter?: Date; serial?: string },
): Promise<string> {
  const { role, commonName } = opts;
  const dnsNames = checkDnsNames(opts.dnsNames);
  const ipAddresses = checkIpAddresses(opts.ipAddresses);
  if (dnsNames.length + ipAddresses.length === 0) throw pkiError("a leaf certificate needs at least one DNS or IP subjectAltName");

  const now = Date.now();
  const notBefore = checkDate(opts.notBefore ?? new Date(now - CLOCK_SKEW_MS), "notBefore");
  const notAfter = checkDate(opts.notAfter ?? new Date(now + checkDays(opts.days ?? DEFAULT_LEAF_DAYS, "days") * DAY_MS), "notAfter");
  if (notAfter.getTime() <= notBefore.getTime()) throw pkiError("notAfter must be later than notBefore");
  const serial = serialIntegerHex(opts.serial ?? randomSerial());

  const signer = await loadCaSigner(ca);
  if (publicKey instanceof Uint8Array && signer.keyId) {
    const subject = [
      { oid: OID_O, value: ORGANISATION },
      { oid: OID_OU, value: role },
      { oid: OID_CN, value: commonName },
    ];
    const fields = { serialHex: serial, issuerDer: signer.subjectDer, caKeyId: signer.keyId, notBefore, notAfter, subject, spkiDer: publicKey, dnsNames, ipAddresses };
    return derToPem(signLeaf(fields, signer.keyObject), "CERTIFICATE");
  }
  if (publicKey instanceof Uint8Array) publicKey = new x509.PublicKey(publicKey);
  const aki = signer.keyId
    ? new x509.AuthorityKeyIdentifierExtension(Buffer.from(signer.keyId).toString("hex"))
    : await x509.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey, false, CRYPTO);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial,
      subject: subjectName(commonName, role),
      // The CA's subject DER as is, so issuer and subject match byte for byte, not just after canonicalisation.
      issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
      notBefore,
      notAfter,
      publicKey,
      signingKey: signer.key,
      signingAlgorithm: EC_SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, CRYPTO),
        aki,
        sanExtension(dnsNames, ipAddresses),
      ],
    },
    CRYPTO,
  );
  return derToPem(cert.rawData, "CERTIFICATE");
}

/**
 * A new key and its signed cert in one step (tests, the local fleet, caller identities): no CSR in between, so
 * nothing is encoded only to be parsed and verified again. SANs default to the CN (as an IP SAN when it is one).
 */
export async function issueCert(
  ca: CertPair,
  opts: { commonName: string; role: CertRole; dnsNames?: string[]; ipAddresses?: string[]; days?: number; notBefore?: Date; notAfter?: Date },
): Promise<CertPair> {
  const role = checkRole(opts.role);
  const commonName = checkCommonName(opts.commonName);
  const cnIsIp = isIP(commonName) !== 0;
  const sans =
    opts.dnsNames !== undefined || opts.ipAddresses !== undefined
      ? { dnsNames: opts.dnsNames ?? [], ipAddresses: opts.ipAddresses ?? [] }
      : { dnsNames: cnIsIp ? [] : [commonName], ipAddresses: cnIsIp ? [commonName] : [] };
  // node:crypto's key pair: its SPKI goes straight into the DER (leafCert), and the key out as PKCS#8 PEM
  const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = new Uint8Array(keys.publicKey.export({ type: "spki", format: "der" }));
  const certPem = await leafCert(ca, spki, { ...opts, role, commonName, ...sans });
  return withHiddenKey({ keyPem: derToPem(keys.privateKey.export({ type: "pkcs8", format: "der" }), "PRIVATE KEY"), certPem });
}

/** Reads a CSR without verifying anything (signCsr does the checking). Synchronous; `await` on it works too. */
export function readCsr(csrPem: string): CsrInfo {
  const csr = parseCsr(csrPem);
  try {
    const { dnsNames, ipAddresses } = readSan(csr.getExtension(OID_SAN));
    return {
      commonName: firstField(csr.subjectName, "CN"),
      dnsNames,
      ipAddresses,
      fingerprint: sha256Colons(csr.rawData),
      publicKeyFingerprint: sha256Colons(csr.publicKey.rawData),
    };
  } catch (err) {
    throw pkiError("CSR: malformed", err);
  }
}

/** The public key a CSR asks to be certified, for checking what its holder signed (enrollment proofs). */
export function csrPublicKey(csrPem: string): KeyObject {
  const csr = parseCsr(csrPem);
  return createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
}

export function certInfo(certPem: string): CertInfo {
  const cert = parseCert(certPem);
  try {
    const ou = firstField(cert.subjectName, "OU");
    const { dnsNames, ipAddresses } = readSan(cert.getExtension(OID_SAN));
    return {
      commonName: firstField(cert.subjectName, "CN"),
      role: CERT_ROLES.has(ou) ? (ou as CertRole) : null,
      serial: canonicalSerial(cert.serialNumber),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      fingerprint: sha256Colons(cert.rawData),
      publicKeyFingerprint: sha256Colons(cert.publicKey.rawData),
      issuerCommonName: firstField(cert.issuerName, "CN"),
      dnsNames,
      ipAddresses,
      isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca === true,
    };
  } catch (err) {
    throw pkiError("certificate: malformed", err);
  }
}

/**
 * "SHA256:" + uppercase hex pairs joined by ":" of the DER (the digits `openssl x509 -fingerprint -sha256` prints).
 * Takes the first PEM block: a certificate, or a CSR (CsrInfo.fingerprint is the same function of the CSR DER).
 */
export function fingerprint(pem: string): string {
  return sha256Colons(pemToDer(pem, ["CERTIFICATE", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "fingerprint"));
}

export async function createCrl(ca: CertPair, revoked: ReadonlyArray<{ serial: string; revokedAt: Date }>, opts?: { nextUpdateDays?: number }): Promise<string> {
  const nextUpdateDays = checkDays(opts?.nextUpdateDays ?? DEFAULT_CRL_DAYS, "nextUpdateDays");
  const seen = new Set<string>();
  const entries: X509.X509CrlEntryParams[] = [];
  for (const r of revoked) {
    // The generator writes the serial hex verbatim as INTEGER contents, so it must already be DER-correct.
    const serialNumber = serialIntegerHex(r.serial);
    if (seen.has(serialNumber)) continue;
    seen.add(serialNumber);
    const revocationDate = checkDate(r.revokedAt, "revokedAt");
    // The invalidity date is there so each entry has an extension: without one the generator writes an empty
    // crlEntryExtensions SEQUENCE, which RFC 5280 forbids (SIZE 1..MAX) and strict parsers reject.
    entries.push({ serialNumber, revocationDate, invalidity: revocationDate });
  }
  const signer = await loadCaSigner(ca);
  const caSki = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const now = Date.now();
  const thisUpdate = wholeSeconds(new Date(now - CLOCK_SKEW_MS));
  const extensions: X509.Extension[] = [
    // RFC 5280 requires a monotonically increasing CRL number; milliseconds since the epoch are, for one CA clock.
    new x509.Extension(OID_CRL_NUMBER, false, derInteger(BigInt(now))),
  ];
  if (caSki) extensions.push(new x509.AuthorityKeyIdentifierExtension(caSki.keyId));
  let crl: X509.X509Crl;
  try {
    crl = await x509.X509CrlGenerator.create(
      {
        issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
        thisUpdate,
        nextUpdate: wholeSeconds(new Date(now + nextUpdateDays * DAY_MS)),
        signingAlgorithm: EC_SIGN_ALG,
        signingKey: signer.key,
        extensions,
        entries,
      },
      CRYPTO,
    );
  } catch (err) {
    throw pkiError("CRL: could not be created", err);
  }
  // Our own armour: the library labels it "CRL", which OpenSSL (and so Node's `crl` option) does not read.
  return derToPem(crl.rawData, "X509 CRL");
}

/** The revoked serials of a CRL, in {@link canonicalSerial} form (the same as CertInfo.serial). */
export function crlSerials(crlPem: string): string[] {
  const der = pemToDer(crlPem, ["X509 CRL"], "CRL");
  try {
    return new x509.X509Crl(der).entries.map((e) => canonicalSerial(e.serialNumber));
  } catch (err) {
    throw pkiError("CRL: malformed", err);
  }
}

/**
 * True when `certPem` names `caCertPem` as its issuer, carries a signature by the CA's key, and both certificates are
 * within their validity at `at` (default now). Any unreadable input is simply not verified: false, never a throw.
 */
export async function verifyCert(certPem: string, caCertPem: string, at: Date = new Date()): Promise<boolean> {
  try {
    const cert = parseCert(certPem);
    const caCert = parseCert(caCertPem, "CA certificate");
    const t = at.getTime();
    if (Number.isNaN(t)) return false;
    if (!Buffer.from(cert.issuerName.toArrayBuffer()).equals(Buffer.from(caCert.subjectName.toArrayBuffer()))) return false;
    if (caCert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) return false;
    if (t < caCert.notBefore.getTime() || t > caCert.notAfter.getTime()) return false;
    if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) return false;
    return await cert.verify({ publicKey: caCert, signatureOnly: true }, CRYPTO);
  } catch {
    return false;
  }
}

/** True when the CSR's self-signature verifies (the requester holds the key); any unreadable input: false. */
export async function verifyCsr(csrPem: string): Promise<boolean> {
  try {
    return await parseCsr(csrPem).verify(CRYPTO);
  } catch {
    return false;
  }
}

export interface CrlInfo {
  /** revoked serials, in {@link canonicalSerial} form */
  serials: string[];
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** the CRL number extension (grows with every CRL this CA issues); null when absent */
  number: bigint | null;
  issuerCommonName: string;
}

/**
 * A CRL's nextUpdate (null when it has none), read straight from the DER: the checks that run on every `func`
 * call and every funcd start need only this date, and must not load the x509 library (~85 ms) for it.
 * Throws like crlInfo on anything that is not a CRL.
 */
export function crlNextUpdate(crlPem: string): Date | null {
  const der = pemToDer(crlPem, ["X509 CRL"], "CRL");
  const malformed = () => pkiError("CRL: malformed");
  /** One DER element at `at`: its tag, where its content starts and ends. */
  const element = (at: number): { tag: number; start: number; end: number } => {
    const tag = der[at];
    let len = der[at + 1];
    if (tag === undefined || len === undefined) throw malformed();
    let start = at + 2;
    if (len & 0x80) {
      const bytes = len & 0x7f;
      if (bytes === 0 || bytes > 4) throw malformed();
      len = 0;
      for (let i = 0; i < bytes; i++) len = len * 256 + (der[start + i] ?? NaN);
      start += bytes;
    }
    if (!Number.isInteger(len) || start + len > der.length) throw malformed();
    return { tag, start, end: start + len };
  };
  const list = element(0);
  const tbs = element(list.start);
  if (list.tag !== 0x30 || tbs.tag !== 0x30) throw malformed();
  let e = element(tbs.start);
  if (e.tag === 0x02) e = element(e.end); // version
  if (e.tag !== 0x30) throw malformed(); // signature algorithm
  e = element(e.end);
  if (e.tag !== 0x30) throw malformed(); // issuer
  e = element(e.end);
  if (e.tag !== 0x17 && e.tag !== 0x18) throw malformed(); // thisUpdate
  if (e.end >= tbs.end) return null;
  const next = element(e.end);
  if (next.tag !== 0x17 && next.tag !== 0x18) return null; // nextUpdate is optional
  const text = Buffer.from(der.subarray(next.start, next.end)).toString("latin1");
  const m = (next.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/).exec(text);
  if (!m) throw malformed();
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = next.tag === 0x17 ? (y >= 50 ? 1900 + y : 2000 + y) : y; // RFC 5280: UTCTime years 50-99 are 19xx
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

export function crlInfo(crlPem: string): CrlInfo {
  const der = pemToDer(crlPem, ["X509 CRL"], "CRL");
  try {
    const crl = new x509.X509Crl(der);
    const ext = crl.getExtension(OID_CRL_NUMBER);
    let number: bigint | null = null;
    if (ext) {
      // extnValue holds a DER INTEGER: tag 0x02, a short length, then the big-endian bytes
      const v = new Uint8Array(ext.value);
      if (v[0] !== 0x02 || v[1] === undefined || v[1] > 20 || v.length !== v[1] + 2) throw pkiError("CRL: malformed CRL number");
      number = v[1] === 0 ? 0n : BigInt("0x" + Buffer.from(v.subarray(2)).toString("hex"));
    }
    return {
      serials: crl.entries.map((e) => canonicalSerial(e.serialNumber)),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate ?? null,
      number,
      issuerCommonName: firstField(crl.issuerName, "CN"),
    };
  } catch (err) {
    if (err instanceof FuncError) throw err;
    throw pkiError("CRL: malformed", err);
  }
}

/** True when `crlPem` is issued by `caCertPem` (issuer name and signature); any unreadable input: false, never a throw. */
export async function verifyCrl(crlPem: string, caCertPem: string): Promise<boolean> {
  try {
    const crl = new x509.X509Crl(pemToDer(crlPem, ["X509 CRL"], "CRL"));
    const caCert = parseCert(caCertPem, "CA certificate");
    if (!Buffer.from(crl.issuerName.toArrayBuffer()).equals(Buffer.from(caCert.subjectName.toArrayBuffer()))) return false;
    return await crl.verify({ publicKey: caCert }, CRYPTO);
  } catch {
    return false;
  }
}
