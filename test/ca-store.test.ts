// The CA on disk: init and key modes, the request life cycle (waiting, idempotent repeats, duplicate names,
// autosign), hostile names and addresses, revocation into the CRL and out of the universe, clean, identities.

import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { FuncError, certInfo, createKeyAndCsr, crlInfo, crlSerials, homePaths, signEnrollClaim, verifyCert, verifyCrl, type HomePaths } from "@func/shared";
import {
  cleanName,
  initCa,
  issueIdentity,
  issueMinionCert,
  listIssued,
  listSigned,
  listWaiting,
  overlordName,
  refreshCrlIfStale,
  revokeName,
  signWaiting,
  submitCsr,
  listMinionNames,
} from "@func/overlord";
import { tempHome } from "./helpers/fleet.js";

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

async function rejectsWith(p: Promise<unknown>, type: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FuncError, `expected a FuncError, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

/** A CSR whose CN is anything at all (createKeyAndCsr refuses control characters, so hostile ones are built here). */
async function rawCsr(cn: string): Promise<string> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: new x509.Name([{ CN: [{ utf8String: cn }] }]), keys, signingAlgorithm: alg },
    webcrypto,
  );
  return csr.toString("pem");
}

function nothingWritten(paths: HomePaths): void {
  assert.deepEqual(readdirSync(paths.csrDir), [], "no request file");
  assert.deepEqual(readdirSync(paths.signedDir), [], "no cert file");
}

describe("CA store", function () {
  this.timeout(30_000);
  let dir: string;
  let paths: HomePaths;

  beforeEach(async () => {
    dir = tempHome("ca-store");
    paths = homePaths(dir);
    assert.equal(await initCa(paths), true);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("init writes the CA, an empty CRL, the overlord and service identities, keys 0600, and is idempotent", async () => {
    for (const k of [paths.caKey, paths.overlordKey, paths.serviceKey]) assert.equal(mode(k), 0o600, k);
    assert.equal(mode(paths.caDir), 0o700);
    for (const c of [paths.caCert, paths.crl]) assert.equal(mode(c) & 0o044, 0o044, `${c} is readable`);
    const ca = readFileSync(paths.caCert, "utf8");
    const overlord = certInfo(readFileSync(paths.overlordCert, "utf8"));
    assert.equal(overlord.role, "overlord");
    assert.equal(overlord.commonName, overlordName());
    assert.equal(certInfo(readFileSync(paths.serviceCert, "utf8")).role, "service");
    assert.ok(await verifyCert(readFileSync(paths.overlordCert, "utf8"), ca));
    assert.ok(await verifyCrl(readFileSync(paths.crl, "utf8"), ca));
    assert.deepEqual(crlSerials(readFileSync(paths.crl, "utf8")), []);
    const before = readFileSync(paths.caKey, "utf8");
    assert.equal(await initCa(paths), false);
    assert.equal(readFileSync(paths.caKey, "utf8"), before, "a second init keeps the CA");
  });

  it("a new request waits; the same key again keeps waiting; sign records the address", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "web1" });
    const r1 = await submitCsr(paths, csrPem, { address: "10.1.2.3", port: 51299, source: "10.1.2.3" });
    assert.equal(r1.status, "waiting");
    const r2 = await submitCsr(paths, csrPem, { address: "10.1.2.3", port: 51299 });
    assert.deepEqual(r2, r1);
    const waiting = listWaiting(paths);
    assert.equal(waiting.length, 1);
    assert.equal(waiting[0]!.name, "web1");
    assert.equal(waiting[0]!.fingerprint, r1.status === "waiting" ? r1.fingerprint : "");
    assert.equal(waiting[0]!.address, "10.1.2.3");
    assert.equal(listSigned(paths).length, 0);

    await signWaiting(paths, "web1");
    assert.deepEqual(listWaiting(paths), []);
    assert.deepEqual(listMinionNames(paths), ["web1"]);
    const rec = JSON.parse(readFileSync(`${paths.signedDir}/web1.json`, "utf8"));
    assert.equal(rec.address, "10.1.2.3");
    assert.equal(rec.port, 51299);
    const cert = readFileSync(`${paths.signedDir}/web1.crt`, "utf8");
    assert.deepEqual(certInfo(cert).ipAddresses, ["10.1.2.3"]);
    assert.equal(certInfo(cert).role, "minion");
    // a repeat after signing gets the same cert back (a minion that lost the answer)
    const r3 = await submitCsr(paths, csrPem, {});
    assert.equal(r3.status, "signed");
    assert.equal(r3.status === "signed" && r3.certPem, cert);
  });

  it("refuses a duplicate name: another key while one waits, and another key once signed", async () => {
    const a = await createKeyAndCsr({ commonName: "db1" });
    const b = await createKeyAndCsr({ commonName: "db1" });
    assert.equal((await submitCsr(paths, a.csrPem, {})).status, "waiting");
    await rejectsWith(submitCsr(paths, b.csrPem, {}), "AccessDenied", /another request for db1/);
    await signWaiting(paths, "db1");
    await rejectsWith(submitCsr(paths, b.csrPem, {}), "AccessDenied", /already has a signed cert/);
    // autosign does not override it either
    await rejectsWith(submitCsr(paths, b.csrPem, {}, { autosign: () => true }), "AccessDenied");
    assert.deepEqual(listSigned(paths), ["db1"]);
  });

  it("autosign signs matching names at once and leaves the others waiting", async () => {
    const auto = (n: string) => n.startsWith("lab");
    const a = await createKeyAndCsr({ commonName: "lab7" });
    const b = await createKeyAndCsr({ commonName: "prod7" });
    assert.equal((await submitCsr(paths, a.csrPem, { address: "127.30.9.9" }, { autosign: auto })).status, "signed");
    assert.equal((await submitCsr(paths, b.csrPem, {}, { autosign: auto })).status, "waiting");
    assert.deepEqual(listSigned(paths), ["lab7"]);
  });

  it("concurrent requests for one name with different keys: exactly one is signed", async () => {
    const csrs = await Promise.all([1, 2, 3, 4].map(() => createKeyAndCsr({ commonName: "race1" })));
    const results = await Promise.allSettled(csrs.map((c) => submitCsr(paths, c.csrPem, {}, { autosign: () => true })));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.deepEqual(listSigned(paths), ["race1"]);
  });

  it("a minion and an identity asked for one name at once: exactly one gets it (enrolled, issued direct, waiting)", async () => {
    for (let i = 0; i < 9; i++) {
      const name = `both${i}`;
      const csr = await createKeyAndCsr({ commonName: name });
      const way = i % 3;
      // the minion's request starts first; the identity's check runs while it signs
      const minion = way === 0 ? submitCsr(paths, csr.csrPem, {}, { autosign: () => true }) : way === 1 ? issueMinionCert(paths, name) : submitCsr(paths, csr.csrPem, {});
      const results = await Promise.allSettled([minion, issueIdentity(paths, name.toUpperCase(), { role: "user" })]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, `${name}: ${JSON.stringify(results.map((r) => (r.status === "rejected" ? String(r.reason) : r.status)))}`);
      const asMinion = listSigned(paths).includes(name) || listWaiting(paths).some((w) => w.name === name);
      const asIdentity = listIssued(paths).includes(name);
      assert.notEqual(asMinion, asIdentity, `${name}: minion ${asMinion}, identity ${asIdentity}`);
    }
  });

  it("refuses hostile names, addresses and ports, and writes nothing", async () => {
    for (const cn of ["../../etc/passwd", "a/b", "..", "web*", "a b", "-lead", "x".repeat(300), "a\u0007b", "a\nb", "ä.example"]) {
      await rejectsWith(submitCsr(paths, await rawCsr(cn), {}, { autosign: () => true }), "BadArguments");
    }
    const ok = (await createKeyAndCsr({ commonName: "fine1" })).csrPem;
    for (const address of ["1.2.3.4; rm -rf /", "../x", "a/b", "x".repeat(300)]) {
      await rejectsWith(submitCsr(paths, ok, { address }), "BadArguments");
    }
    for (const port of [70000, -1, 1.5]) await rejectsWith(submitCsr(paths, ok, { port }), "BadArguments");
    await rejectsWith(submitCsr(paths, "not a csr", {}), "BadArguments");
    await rejectsWith(submitCsr(paths, "x".repeat(100_000), {}), "BadArguments");
    nothingWritten(paths);
    await rejectsWith(signWaiting(paths, "../ca/ca"), "BadArguments");
    await rejectsWith(revokeName(paths, "../ca/ca"), "BadArguments");
    await rejectsWith(cleanName(paths, "../../x"), "BadArguments");
    assert.ok(existsSync(paths.caKey));
  });

  it("refuses a CSR whose signature does not verify", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "forged1" });
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 3]! ^= 0x01; // a bit of the signature
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await rejectsWith(submitCsr(paths, forged, {}, { autosign: () => true }), "BadArguments", /signature/);
    nothingWritten(paths);
  });

  it("caps the number of waiting requests", async () => {
    for (const n of ["w1", "w2"]) await submitCsr(paths, (await createKeyAndCsr({ commonName: n })).csrPem, {}, { maxWaiting: 2 });
    await rejectsWith(submitCsr(paths, (await createKeyAndCsr({ commonName: "w3" })).csrPem, {}, { maxWaiting: 2 }), "LimitExceeded");
    assert.equal(listWaiting(paths).length, 2);
  });

  it("revoke puts the serial in the CRL, takes the minion out of the universe, and blocks the name until clean", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "old1" });
    const signed = await submitCsr(paths, csrPem, { address: "127.30.1.1" }, { autosign: () => true });
    assert.equal(signed.status, "signed");
    const serial = certInfo(signed.status === "signed" ? signed.certPem : "").serial;
    const numberBefore = crlInfo(readFileSync(paths.crl, "utf8")).number!;

    const r = await revokeName(paths, "old1");
    assert.deepEqual(r, { name: "old1", serial, kind: "minion" });
    const crl = readFileSync(paths.crl, "utf8");
    assert.deepEqual(crlSerials(crl), [serial]);
    assert.ok(crlInfo(crl).number! > numberBefore, "the CRL number grows");
    assert.ok(await verifyCrl(crl, readFileSync(paths.caCert, "utf8")));
    assert.deepEqual(listMinionNames(paths), []);
    assert.ok(existsSync(`${paths.revokedDir}/old1.crt`));
    await rejectsWith(revokeName(paths, "old1"), "NotFound", /already revoked/);
    // the same key, or a new one, cannot come back until the admin cleans the name
    await rejectsWith(submitCsr(paths, csrPem, {}, { autosign: () => true }), "AccessDenied", /revoked/);
    const fresh = await createKeyAndCsr({ commonName: "old1" });
    await rejectsWith(submitCsr(paths, fresh.csrPem, {}, { autosign: () => true }), "AccessDenied", /revoked/);

    await cleanName(paths, "old1");
    assert.equal((await submitCsr(paths, fresh.csrPem, {}, { autosign: () => true })).status, "signed");
    assert.deepEqual(crlSerials(readFileSync(paths.crl, "utf8")), [serial], "clean keeps the old serial revoked");
  });

  it("clean of a name that still holds a cert revokes it first", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "held1" });
    const s = await submitCsr(paths, csrPem, {}, { autosign: () => true });
    const serial = certInfo(s.status === "signed" ? s.certPem : "").serial;
    const r = await cleanName(paths, "held1");
    assert.equal(r.revoked?.serial, serial);
    assert.deepEqual(crlSerials(readFileSync(paths.crl, "utf8")), [serial]);
    assert.deepEqual(listSigned(paths), []);
    assert.equal((await submitCsr(paths, (await createKeyAndCsr({ commonName: "held1" })).csrPem, {})).status, "waiting");
  });

  it("issues caller identities that can be revoked by name, and keeps names apart from minions", async () => {
    const ops = await issueIdentity(paths, "ops1", { role: "user" });
    assert.equal(certInfo(ops.certPem).role, "user");
    assert.ok(await verifyCert(ops.certPem, readFileSync(paths.caCert, "utf8")));
    await rejectsWith(issueIdentity(paths, "ops1", { role: "user" }), "AccessDenied");
    await rejectsWith(submitCsr(paths, (await createKeyAndCsr({ commonName: "ops1" })).csrPem, {}, { autosign: () => true }), "AccessDenied");
    await submitCsr(paths, (await createKeyAndCsr({ commonName: "m1" })).csrPem, {}, { autosign: () => true });
    await rejectsWith(issueIdentity(paths, "m1", { role: "user" }), "AccessDenied");
    await rejectsWith(issueIdentity(paths, "a/../b", { role: "user" }), "BadArguments");

    const r = await revokeName(paths, "ops1");
    assert.equal(r.kind, "identity");
    assert.deepEqual(crlSerials(readFileSync(paths.crl, "utf8")), [certInfo(ops.certPem).serial]);
    // the overlord's own identity is revocable by name too
    const own = await revokeName(paths, overlordName());
    assert.equal(own.serial, certInfo(readFileSync(paths.overlordCert, "utf8")).serial);
  });

  it("names fold to one form: an identity issued before folding (Boss.crt) still blocks boss, and is revoked as boss", async () => {
    const boss = await issueIdentity(paths, "Boss.lab", { role: "user" });
    assert.equal(certInfo(boss.certPem).commonName, "boss.lab", "issued under the canonical name");
    // a CA from before names were folded kept the name as typed
    renameSync(join(paths.caDir, "issued", "boss.lab.crt"), join(paths.caDir, "issued", "Boss.lab.crt"));
    await rejectsWith(submitCsr(paths, (await createKeyAndCsr({ commonName: "boss.lab" })).csrPem, {}, { autosign: () => true }), "AccessDenied", /caller identity/);
    await rejectsWith(submitCsr(paths, (await createKeyAndCsr({ commonName: "BOSS.LAB" })).csrPem, {}, { autosign: () => true }), "AccessDenied", /caller identity/);
    await rejectsWith(issueIdentity(paths, "boss.lab", { role: "user" }), "AccessDenied", /already exists/);
    await submitCsr(paths, (await createKeyAndCsr({ commonName: "Web9" })).csrPem, {});
    await rejectsWith(issueIdentity(paths, "WEB9", { role: "user" }), "AccessDenied", /minion's name/);
    assert.equal((await revokeName(paths, "BOSS.lab")).serial, certInfo(boss.certPem).serial);
    assert.deepEqual(listSigned(paths), []);
  });

  it("a submission's proof must be the CSR key's signature over this address, fresh and newer than the last", async () => {
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "proof1" });
    const other = await createKeyAndCsr({ commonName: "proof1" });
    const claim = (address: string, at: string, key = keyPem) => ({ at, signature: signEnrollClaim(key, { name: "proof1", address, port: 51234, at }) });
    const t0 = new Date().toISOString();
    const ok = await submitCsr(paths, csrPem, { address: "10.0.0.1", port: 51234, proof: claim("10.0.0.1", t0) });
    assert.equal(ok.status, "waiting");
    const t1 = new Date(Date.now() + 1000).toISOString();
    await rejectsWith(submitCsr(paths, csrPem, { address: "10.6.6.6", port: 51234, proof: claim("10.0.0.1", t1) }), "AccessDenied", /not signed by the key/);
    await rejectsWith(submitCsr(paths, csrPem, { address: "10.6.6.6", port: 51234, proof: claim("10.6.6.6", t1, other.keyPem) }), "AccessDenied", /not signed by the key/);
    await rejectsWith(submitCsr(paths, csrPem, { address: "10.6.6.6", port: 51234, proof: claim("10.6.6.6", t0) }), "MethodError", /not newer/);
    const old = new Date(Date.now() - 3600_000).toISOString();
    await rejectsWith(submitCsr(paths, csrPem, { address: "10.6.6.6", port: 51234, proof: claim("10.6.6.6", old) }), "MethodError", /clock/);
    assert.equal(listWaiting(paths)[0]!.address, "10.0.0.1", "no refused submission moved it");
    await submitCsr(paths, csrPem, { address: "10.0.0.2", port: 51234, proof: claim("10.0.0.2", t1) });
    assert.equal(listWaiting(paths)[0]!.address, "10.0.0.2", "the key holder may change what it asks for while waiting");
  });

  it("waiting requests expire when not repeated for the TTL, and are capped per source", async () => {
    const at = Date.now();
    for (const n of ["s1", "s2"]) await submitCsr(paths, (await createKeyAndCsr({ commonName: n })).csrPem, { source: "10.9.9.9" }, { maxPerSource: 2, now: at });
    await rejectsWith(
      submitCsr(paths, (await createKeyAndCsr({ commonName: "s3" })).csrPem, { source: "10.9.9.9" }, { maxPerSource: 2, now: at }),
      "LimitExceeded",
      /from 10\.9\.9\.9/,
    );
    assert.equal((await submitCsr(paths, (await createKeyAndCsr({ commonName: "t1" })).csrPem, { source: "10.9.9.8" }, { maxPerSource: 2, now: at })).status, "waiting");
    assert.deepEqual(listWaiting(paths, { now: at + 1000 }).map((w) => w.name), ["s1", "s2", "t1"]);
    assert.deepEqual(listWaiting(paths, { ttlS: 60, now: at + 61_000 }), [], "not repeated for 60 s: gone");
    assert.deepEqual(readdirSync(paths.csrDir), []);
  });

  it("re-signs a CRL that is past half its life, and only then", async () => {
    const first = readFileSync(paths.crl, "utf8");
    assert.equal(await refreshCrlIfStale(paths), false);
    assert.equal(readFileSync(paths.crl, "utf8"), first);
    const later = Date.now() + 20 * 24 * 3600 * 1000;
    assert.equal(await refreshCrlIfStale(paths, later), true);
    const second = readFileSync(paths.crl, "utf8");
    assert.notEqual(second, first);
    assert.ok(crlInfo(second).number! > crlInfo(first).number!);
  });
});
