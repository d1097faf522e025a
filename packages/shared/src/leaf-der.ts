// The DER of a leaf certificate written out directly and signed with node:crypto: the same TBS, field for
// field, that pki.ts's library path (signCsr) makes, at a fraction of its cost (issueCert for thousands of
// fleet minions). test/pki.test.ts holds the two to the same bytes.

import { createHash, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

/** What a leaf certificate says; every value already checked by the caller (pki.ts). */
export interface LeafFields {
  /** the serial's DER INTEGER contents, hex (a leading 00 where the high bit is set) */
  serialHex: string;
  /** the issuer Name's DER, as in the CA cert's subject (byte for byte) */
  issuerDer: Uint8Array;
  /** the CA's subject key identifier (becomes the leaf's authority key identifier) */
  caKeyId: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** subject attributes in order (O, OU, CN), each a UTF8String */
  subject: readonly { oid: string; value: string }[];
  /** the leaf's SubjectPublicKeyInfo DER (EC P-256) */
  spkiDer: Uint8Array;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...length(body.length)]), body]);
}

const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds, Z. */
function time(d: Date): Uint8Array {
  const iso = d.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2) + "Z")) : tlv(0x18, Buffer.from(digits + "Z"));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), tlv(0x04, value));
}

const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  // IPv6: expand "::" and write the eight groups
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** The TBSCertificate DER (what the CA signs). */
export function leafTbs(f: LeafFields): Uint8Array {
  const subject = seq(...f.subject.map((a) => tlv(0x31, seq(oid(a.oid), tlv(0x0c, Buffer.from(a.value, "utf8"))))));
  // the key identifier is the SHA-1 of the public key's bits: for P-256, the 65-byte point that ends the SPKI
  const point = f.spkiDer.subarray(f.spkiDer.length - 65);
  const keyId = createHash("sha1").update(point).digest();
  const san = seq(
    ...f.dnsNames.map((n) => tlv(0x82, Buffer.from(n, "ascii"))),
    ...f.ipAddresses.map((ip) => tlv(0x87, ipBytes(ip))),
  );
  const extensions = seq(
    extension("2.5.29.19", true, seq()),
    extension("2.5.29.15", true, Buffer.from([0x03, 0x02, 0x07, 0x80])),
    extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))),
    extension("2.5.29.14", false, tlv(0x04, keyId)),
    extension("2.5.29.35", false, seq(tlv(0x80, f.caKeyId))),
    extension("2.5.29.17", false, san),
  );
  return seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, Buffer.from(f.serialHex, "hex")),
    ECDSA_SHA256,
    f.issuerDer,
    seq(time(f.notBefore), time(f.notAfter)),
    subject,
    f.spkiDer,
    tlv(0xa3, extensions),
  );
}

/** The certificate's DER: the TBS signed with the CA's key (ECDSA P-256, SHA-256). */
export function signLeaf(f: LeafFields, caKey: KeyObject): Uint8Array {
  const tbs = leafTbs(f);
  const signature = sign("sha256", tbs, caKey);
  return seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), signature));
}
