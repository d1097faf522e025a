// PKI (packages/shared/src/pki.ts) against real verifiers: openssl, Node's tls (mutual TLS, CRLs) and Python's ssl
// with VERIFY_X509_STRICT, so a cert the library builds but a strict peer would refuse fails here, not in the fleet.

import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey, createPublicKey, createHash, webcrypto } from "node:crypto";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { inspect, promisify } from "node:util";
import type { AddressInfo } from "node:net";
import {
  FuncError,
  certInfo,
  createCa,
  createCrl,
  createKeyAndCsr,
  crlSerials,
  fingerprint,
  issueCert,
  randomSerial,
  readCsr,
  signCsr,
  verifyCert,
} from "@func/shared";
import type { CertPair } from "@func/shared";
import type * as X509 from "@peculiar/x509";

const execFileP = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;
/** Upper bound on one handshake: a hang means a side is waiting on something that never comes. */
const HANDSHAKE_TIMEOUT_MS = 5000;

const PYTHON_CLIENT = `
import json, socket, ssl, sys
cafile, certfile, keyfile, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=cafile)
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
ctx.load_cert_chain(certfile, keyfile)
with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        data = s.recv(100).decode()
        subject = dict(x[0] for x in s.getpeercert()["subject"])
        print(json.dumps({"data": data, "subject": subject, "strict": bool(ctx.verify_flags & ssl.VERIFY_X509_STRICT)}))
`;

interface HandshakeResult {
  /** the server accepted the connection and the client read the greeting */
  ok: boolean;
  clientAuthorized: boolean;
  peerCN: string | undefined;
  peerOU: string | undefined;
  /** why the server did not authorize the client; only reachable with a probing server (rejectUnauthorized false) */
  authorizationError: string | undefined;
  serverError: string | undefined;
  clientError: string | undefined;
}

/**
 * One connection to a fresh server; success is judged by the server, since with TLS 1.3 the client finishes first.
 * A refusing server just drops the socket (the client sees ECONNRESET), so the reason is read with `probe`: the same
 * server without rejectUnauthorized, reporting authorizationError.
 */
async function handshake(server: tls.TlsOptions, client: tls.ConnectionOptions, probe = false): Promise<HandshakeResult> {
  const result: HandshakeResult = { ok: false, clientAuthorized: false, peerCN: undefined, peerOU: undefined, authorizationError: undefined, serverError: undefined, clientError: undefined };
  const srv = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: !probe }, (sock) => {
    const peer = sock.getPeerCertificate();
    if (!sock.authorized) result.authorizationError = String(sock.authorizationError);
    result.peerCN = String(peer.subject?.CN);
    result.peerOU = String(peer.subject?.OU);
    sock.end("hello");
  });
  srv.on("tlsClientError", (err: NodeJS.ErrnoException) => {
    result.serverError = err.code ?? err.message;
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      let data = "";
      const timer = setTimeout(() => {
        result.clientError = "timeout";
        sock.destroy();
      }, HANDSHAKE_TIMEOUT_MS);
      const sock = tls.connect({ host: "127.0.0.1", port, ...client }, () => {
        result.clientAuthorized = sock.authorized;
      });
      sock.setEncoding("utf8");
      sock.on("data", (d: string) => (data += d));
      sock.on("error", (err: NodeJS.ErrnoException) => {
        result.clientError ??= err.code ?? err.message;
      });
      sock.on("close", () => {
        clearTimeout(timer);
        result.ok = data === "hello" && result.serverError === undefined && result.authorizationError === undefined;
        resolve();
      });
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  return result;
}

/** The TBSCertificate of a PEM certificate: the first element of its outer SEQUENCE, as DER. */
function tbsOf(pem: string): Buffer {
  const der = new X509Certificate(pem).raw;
  const len = (at: number): [number, number] => {
    const b = der[at]!;
    if (b < 0x80) return [b, 1];
    let n = 0;
    for (let i = 1; i <= (b & 0x7f); i++) n = n * 256 + der[at + i]!;
    return [n, 1 + (b & 0x7f)];
  };
  const [, outerLen] = len(1);
  const start = 1 + outerLen;
  const [tbsLen, tbsLenLen] = len(start + 1);
  return der.subarray(start, start + 1 + tbsLenLen + tbsLen);
}

/** A CSR made by the x509 library for an existing PKCS#8 key (the library path needs one to sign). */
async function csrForKey(keyPem: string, commonName: string): Promise<string> {
  const x509 = createRequire(import.meta.resolve("@func/shared"))("@peculiar/x509") as typeof X509;
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  const privateKey = await webcrypto.subtle.importKey("pkcs8", createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" }), alg, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", createPublicKey(keyPem).export({ type: "spki", format: "der" }), alg, true, ["verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: new x509.Name([{ CN: [{ utf8String: commonName }] }]), keys: { privateKey, publicKey }, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } },
    webcrypto,
  );
  return csr.toString("pem");
}

describe("pki", function () {
  let dir: string;
  let ca: CertPair;
  let otherCa: CertPair;
  let minion: CertPair;
  let overlord: CertPair;
  let overlord2: CertPair;
  let expired: CertPair;
  let foreign: CertPair;

  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "func-pki-test-"));
    [ca, otherCa] = await Promise.all([createCa({ commonName: "func test CA" }), createCa({ commonName: "other CA" })]);
    [minion, overlord, overlord2, expired, foreign] = await Promise.all([
      issueCert(ca, { commonName: "minion1", role: "minion", dnsNames: ["minion1", "localhost"], ipAddresses: ["127.0.0.1"] }),
      issueCert(ca, { commonName: "overlord", role: "overlord" }),
      issueCert(ca, { commonName: "overlord2", role: "overlord" }),
      issueCert(ca, { commonName: "old-overlord", role: "overlord", notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }),
      issueCert(otherCa, { commonName: "overlord", role: "overlord" }),
    ]);
    file("ca.pem", ca.certPem);
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("certificates under openssl", function () {
    it("openssl verify -x509_strict accepts a minion and an overlord cert", function () {
      for (const [name, pair] of [["minion", minion], ["overlord", overlord]] as const) {
        const leaf = file(`${name}.pem`, pair.certPem);
        assert.match(openssl("verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), leaf), /: OK\s*$/);
      }
    });

    it("openssl verify refuses a cert from another CA", function () {
      const leaf = file("foreign.pem", foreign.certPem);
      assert.throws(() => openssl("verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), leaf));
    });

    it("leaves carry SKI, AKI (= the CA's SKI), SAN, CA:FALSE (critical), key usage and serverAuth+clientAuth", function () {
      const out = openssl("x509", "-noout", "-in", file("minion-ext.pem", minion.certPem), "-ext", "subjectKeyIdentifier,authorityKeyIdentifier,subjectAltName,basicConstraints,keyUsage,extendedKeyUsage");
      assert.match(out, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(out, /Key Usage: critical\s+Digital Signature/);
      assert.match(out, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(out, /DNS:minion1, DNS:localhost, IP Address:127\.0\.0\.1/);
      const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(out)?.[1];
      const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(out)?.[1];
      assert.ok(ski && aki && ski !== aki);
      const caOut = openssl("x509", "-noout", "-in", join(dir, "ca.pem"), "-ext", "subjectKeyIdentifier,authorityKeyIdentifier,basicConstraints,keyUsage");
      assert.equal(/Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caOut)?.[1], aki);
      assert.equal(/Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(caOut)?.[1], aki);
      assert.match(caOut, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(caOut, /Certificate Sign, CRL Sign/);
    });

    it("issueCert's directly written DER has the very TBS signCsr's library path makes for the same key and fields", async function () {
      // the library signs a CSR for the key issueCert made, with the same serial, dates and SANs: the two
      // TBSCertificates must be byte for byte the same (only the ECDSA signatures differ)
      const cases = [
        { commonName: "leaf0001", role: "minion" as const, dnsNames: ["leaf0001"], ipAddresses: ["127.150.0.9", "::1", "fe80::1:2"] },
        { commonName: "127.150.0.3", role: "minion" as const },
        { commonName: "ops-ci_1", role: "user" as const, days: 40 * 365 },
        { commonName: "a".repeat(64), role: "overlord" as const, dnsNames: ["x".repeat(63) + "." + "y".repeat(63) + ".example"] },
      ];
      for (const c of cases) {
        const fast = await issueCert(ca, c);
        const info = certInfo(fast.certPem);
        const csrPem = await csrForKey(fast.keyPem, c.commonName);
        const slow = await signCsr(ca, csrPem, {
          role: c.role,
          dnsNames: info.dnsNames,
          ipAddresses: info.ipAddresses,
          notBefore: info.notBefore,
          notAfter: info.notAfter,
          serial: info.serial,
        });
        assert.deepEqual(tbsOf(fast.certPem).toString("hex"), tbsOf(slow).toString("hex"), c.commonName);
        assert.ok(new X509Certificate(fast.certPem).verify(new X509Certificate(ca.certPem).publicKey), c.commonName);
      }
    });

    it("puts the role in OU and the subject as O=func, OU=<role>, CN=<name>", function () {
      const subject = openssl("x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", file("overlord.pem", overlord.certPem));
      assert.equal(subject.trim(), "subject=CN=overlord,OU=overlord,O=func");
    });

    it("fingerprint matches openssl x509 -fingerprint -sha256", function () {
      const out = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", file("fp.pem", minion.certPem));
      const hex = /Fingerprint=([0-9A-F:]+)/i.exec(out)?.[1];
      assert.ok(hex);
      assert.equal(fingerprint(minion.certPem), "SHA256:" + hex.toUpperCase());
      assert.equal(fingerprint(minion.certPem), "SHA256:" + new X509Certificate(minion.certPem).fingerprint256);
      assert.equal(certInfo(minion.certPem).fingerprint, fingerprint(minion.certPem));
    });
  });

  describe("keys", function () {
    it("are PKCS#8 PEM on P-256", async function () {
      const { keyPem } = await createKeyAndCsr({ commonName: "k" });
      for (const pem of [ca.keyPem, minion.keyPem, keyPem]) {
        assert.ok(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"));
        const key = createPrivateKey(pem);
        assert.equal(key.asymmetricKeyType, "ec");
        assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
      }
    });

    it("stay out of util.inspect output and error messages", async function () {
      assert.ok(!inspect(minion).includes("PRIVATE KEY"));
      assert.ok(!inspect(await createKeyAndCsr({ commonName: "k" })).includes("PRIVATE KEY"));
      assert.equal(minion.keyPem.includes("PRIVATE KEY"), true);
      const { csrPem } = await createKeyAndCsr({ commonName: "x" });
      await assert.rejects(signCsr({ keyPem: otherCa.keyPem, certPem: ca.certPem }, csrPem, { role: "minion" }), (err: unknown) => {
        assert.ok(err instanceof FuncError && err.type === "PkiError");
        assert.match(err.message, /does not match/);
        assert.ok(!err.message.includes("PRIVATE KEY") && !err.message.includes(otherCa.keyPem.split("\n")[1]!));
        return true;
      });
    });
  });

  describe("CSRs", function () {
    it("readCsr gives the CN, SANs and fingerprints; signCsr keeps the key and applies the SAN default", async function () {
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "web7", dnsNames: ["web7.lan"], ipAddresses: ["10.1.2.3"] });
      const info = readCsr(csrPem);
      assert.equal(info.commonName, "web7");
      assert.deepEqual(info.dnsNames, ["web7.lan"]);
      assert.deepEqual(info.ipAddresses, ["10.1.2.3"]);
      assert.equal(info.fingerprint, fingerprint(csrPem));
      const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
      const hex = createHash("sha256").update(spki).digest("hex").toUpperCase();
      assert.equal(info.publicKeyFingerprint, "SHA256:" + hex.match(/../g)!.join(":"));

      const certPem = await signCsr(ca, csrPem, { role: "service" });
      const cert = certInfo(certPem);
      assert.equal(cert.commonName, "web7");
      assert.equal(cert.role, "service");
      assert.equal(cert.issuerCommonName, "func test CA");
      assert.deepEqual(cert.dnsNames, ["web7", "web7.lan"]);
      assert.deepEqual(cert.ipAddresses, ["10.1.2.3"]);
      assert.equal(cert.isCa, false);
      assert.ok(new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)));
    });

    it("signCsr puts in exactly the SANs and CN the caller passes", async function () {
      const { csrPem } = await createKeyAndCsr({ commonName: "asks-for-much", dnsNames: ["bank.example"] });
      const cert = certInfo(await signCsr(ca, csrPem, { role: "minion", commonName: "m9", dnsNames: ["m9.fleet"], ipAddresses: [] }));
      assert.equal(cert.commonName, "m9");
      assert.deepEqual(cert.dnsNames, ["m9.fleet"]);
      assert.deepEqual(cert.ipAddresses, []);
    });

    it("signCsr refuses a tampered CSR, a non-PEM CSR, a cert in place of a CSR, wildcards and bad roles", async function () {
      const { csrPem } = await createKeyAndCsr({ commonName: "tamper-me" });
      const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
      const at = der.indexOf(Buffer.from("tamper-me"));
      assert.ok(at > 0);
      der[at] = "T".charCodeAt(0);
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
      assert.equal(readCsr(tampered).commonName, "Tamper-me");
      const isPkiError = (re: RegExp) => (err: unknown) => err instanceof FuncError && err.type === "PkiError" && re.test(err.message);
      await assert.rejects(signCsr(ca, tampered, { role: "minion" }), isPkiError(/signature does not verify/));
      await assert.rejects(signCsr(ca, "not a csr at all", { role: "minion" }), isPkiError(/not a PEM/));
      await assert.rejects(signCsr(ca, der.toString("base64"), { role: "minion" }), isPkiError(/not a PEM/));
      await assert.rejects(signCsr(ca, minion.certPem, { role: "minion" }), isPkiError(/not a PEM/));
      await assert.rejects(signCsr(ca, csrPem, { role: "minion", dnsNames: ["*.fleet"] }), isPkiError(/not a DNS name/));
      await assert.rejects(signCsr(ca, csrPem, { role: "root" as "minion" }), isPkiError(/role/));
      await assert.rejects(signCsr(minion, csrPem, { role: "minion" }), isPkiError(/not a CA/));
    });
  });

  describe("serials, validity and CRLs", function () {
    it("serials are random, positive, 16 bytes, in one lowercase-hex form", async function () {
      const serials = new Set(Array.from({ length: 1000 }, () => randomSerial()));
      assert.equal(serials.size, 1000);
      for (const s of serials) assert.match(s, /^[4-7][0-9a-f]{31}$/);
      for (const pair of [ca, minion, overlord]) {
        const info = certInfo(pair.certPem);
        assert.match(info.serial, /^[0-9a-f]{32}$/);
        assert.equal(info.serial, new X509Certificate(pair.certPem).serialNumber.toLowerCase());
      }
      assert.notEqual(certInfo(overlord.certPem).serial, certInfo(overlord2.certPem).serial);
    });

    it("an explicit serial with the high bit set stays positive and reads back canonically", async function () {
      const { csrPem } = await createKeyAndCsr({ commonName: "s" });
      const certPem = await signCsr(ca, csrPem, { role: "minion", serial: "00FF01" });
      assert.equal(certInfo(certPem).serial, "ff01");
      assert.match(openssl("x509", "-noout", "-serial", "-in", file("serial.pem", certPem)), /serial=FF01/);
    });

    it("verifyCert checks the signature, the issuer and the validity window", async function () {
      assert.equal(await verifyCert(minion.certPem, ca.certPem), true);
      assert.equal(await verifyCert(foreign.certPem, ca.certPem), false);
      assert.equal(await verifyCert(expired.certPem, ca.certPem), false);
      assert.equal(await verifyCert(minion.certPem, ca.certPem, new Date(Date.now() + 800 * DAY_MS)), true);
      assert.equal(await verifyCert(minion.certPem, ca.certPem, new Date(Date.now() + 900 * DAY_MS)), false);
      // Before the CA itself was valid: the expired leaf was backdated past the CA's own notBefore.
      assert.equal(await verifyCert(expired.certPem, ca.certPem, new Date(Date.now() - 2 * DAY_MS)), false);
      assert.equal(await verifyCert(ca.certPem, ca.certPem), true);
      assert.equal(await verifyCert(minion.certPem, minion.certPem), false);
      assert.equal(await verifyCert("garbage", ca.certPem), false);
      const info = certInfo(expired.certPem);
      assert.ok(info.notAfter.getTime() < Date.now());
    });

    it("crlSerials(createCrl(...)) gives back the serials in certInfo form", async function () {
      const revoked = [certInfo(overlord.certPem).serial, "00ff01", "0A"];
      const crlPem = await createCrl(ca, revoked.map((serial) => ({ serial, revokedAt: new Date() })));
      assert.ok(crlPem.startsWith("-----BEGIN X509 CRL-----\n"));
      assert.deepEqual(crlSerials(crlPem), [certInfo(overlord.certPem).serial, "ff01", "0a"]);
      const text = openssl("crl", "-noout", "-text", "-in", file("crl.pem", crlPem));
      assert.match(text, /CRL Number/);
      assert.match(text, /Authority Key Identifier/);
      assert.deepEqual(crlSerials(await createCrl(ca, [])), []);
    });
  });

  describe("mutual TLS with Node", function () {
    const server = (): tls.TlsOptions => ({ key: minion.keyPem, cert: minion.certPem, ca: ca.certPem });

    it("authorizes both sides and the server reads the client's CN and OU", async function () {
      const r = await handshake(server(), { key: overlord.keyPem, cert: overlord.certPem, ca: ca.certPem });
      assert.equal(r.ok, true, `server ${r.serverError}, client ${r.clientError}`);
      assert.equal(r.clientAuthorized, true);
      assert.equal(r.peerCN, "overlord");
      assert.equal(r.peerOU, "overlord");
    });

    it("refuses a client cert from another CA", async function () {
      const client = { key: foreign.keyPem, cert: foreign.certPem, ca: ca.certPem };
      const r = await handshake(server(), client);
      assert.equal(r.ok, false);
      assert.ok(r.serverError, "the server saw no error");
      assert.match(String((await handshake(server(), client, true)).authorizationError), /UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    });

    it("refuses an expired client cert", async function () {
      const client = { key: expired.keyPem, cert: expired.certPem, ca: ca.certPem };
      const r = await handshake(server(), client);
      assert.equal(r.ok, false);
      assert.ok(r.serverError, "the server saw no error");
      assert.equal((await handshake(server(), client, true)).authorizationError, "CERT_HAS_EXPIRED");
    });

    it("the client refuses a server from another CA", async function () {
      const r = await handshake({ key: foreign.keyPem, cert: foreign.certPem, ca: [ca.certPem, otherCa.certPem] }, { key: overlord.keyPem, cert: overlord.certPem, ca: ca.certPem });
      assert.equal(r.ok, false);
      assert.ok(r.clientError);
    });

    it("with a CRL, refuses the revoked client and still accepts the others", async function () {
      const crlPem = await createCrl(ca, [{ serial: certInfo(overlord2.certPem).serial, revokedAt: new Date() }]);
      const client = { key: overlord2.keyPem, cert: overlord2.certPem, ca: ca.certPem };
      assert.equal((await handshake(server(), client)).ok, true, "overlord2 works before it is revoked");
      const revoked = await handshake({ ...server(), crl: crlPem }, client);
      assert.equal(revoked.ok, false);
      assert.ok(revoked.serverError, "the server saw no error");
      assert.equal((await handshake({ ...server(), crl: crlPem }, client, true)).authorizationError, "CERT_REVOKED");
      const fine = await handshake({ ...server(), crl: crlPem }, { key: overlord.keyPem, cert: overlord.certPem, ca: ca.certPem });
      assert.equal(fine.ok, true, `server ${fine.serverError}, client ${fine.clientError}`);
      assert.equal(fine.peerOU, "overlord");
    });
  });

  describe("Python ssl with VERIFY_X509_STRICT", function () {
    it("connects with the overlord cert to the Node server holding the minion cert", async function () {
      if (spawnSync("python3", ["--version"]).error) this.skip();
      const caFile = join(dir, "ca.pem");
      const certFile = file("py-overlord.pem", overlord.certPem);
      const keyFile = file("py-overlord.key", overlord.keyPem);
      let peerOU: string | undefined;
      const srv = tls.createServer({ key: minion.keyPem, cert: minion.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (sock) => {
        peerOU = String(sock.getPeerCertificate().subject?.OU);
        sock.end("hello");
      });
      await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = srv.address() as AddressInfo;
        const { stdout } = await execFileP("python3", ["-c", PYTHON_CLIENT, caFile, certFile, keyFile, String(port)], { timeout: 10_000 });
        const out = JSON.parse(stdout) as { data: string; subject: Record<string, string>; strict: boolean };
        assert.equal(out.strict, true);
        assert.equal(out.data, "hello");
        assert.equal(out.subject.commonName, "minion1");
        assert.equal(out.subject.organizationalUnitName, "minion");
        assert.equal(peerOU, "overlord");
      } finally {
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
    });
  });
});
