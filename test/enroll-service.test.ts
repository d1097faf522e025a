// The enrollment protocol over real TLS on 127.30.0.x: CA pinning by fingerprint before anything is sent,
// polling until signed, refusals (duplicate name, revoked), hostile requests, rate limiting, and the minion's
// CRL refresher keeping the last good CRL.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:https";
import { join } from "node:path";
import {
  ENROLL_MAX_BODY_BYTES,
  FAULT,
  FuncError,
  certInfo,
  createCa,
  createCrl,
  createKeyAndCsr,
  crlSerials,
  encodeCall,
  fingerprint,
  homePaths,
  issueCert,
  loadMinionConfig,
  signEnrollClaim,
  type HomePaths,
  type MinionConfig,
} from "@func/shared";
import { CrlRefresher, EnrollClient, backoffDelay, enrollMinion, isTransient } from "@func/minion";
import { caFingerprint, initCa, listWaiting, revokeName, signWaiting, startEnrollService, type EnrollService } from "@func/overlord";
import { tempHome } from "./helpers/fleet.js";
import { faultOf } from "./helpers/xmlrpc.js";
import { eventually } from "./helpers/procs.js";

const SERVICE_ADDR = "127.30.0.1";
const FAST_POLL = { pollStartMs: 50, pollMaxMs: 200 };

function minionConfig(paths: HomePaths, name: string, address: string): MinionConfig {
  return { ...loadMinionConfig(paths), minionName: name, listenAddr: address, listenPort: 51234 };
}

async function rejectsWith(p: Promise<unknown>, type: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FuncError, `expected a FuncError, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

/** A raw POST to the service (trusting its CA), for requests the client would never send. */
function post(svc: EnrollService, ca: string, body: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: svc.address, port: svc.port, method: "POST", path: "/", ca, servername: "localhost", agent: false, checkServerIdentity: () => undefined }, (res) => {
      let data = "";
      res.on("data", (c: Buffer) => (data += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("enrollment service and client", function () {
  this.timeout(60_000);
  let root: string;
  let ca: HomePaths;
  let svc: EnrollService;
  let caPem: string;
  let fp: string;
  const toClose: { close(): unknown }[] = [];

  const minionHome = (name: string): HomePaths => homePaths(join(root, "minions", name));
  const client = (trust: { fingerprint?: string; caPem?: string } = { fingerprint: fp }, port = svc.port) => {
    const c = new EnrollClient({ host: SERVICE_ADDR, port }, trust);
    toClose.push(c);
    return c;
  };

  before(async () => {
    root = tempHome("enroll-svc");
    ca = homePaths(join(root, "overlord"));
    await initCa(ca);
    caPem = readFileSync(ca.caCert, "utf8");
    fp = caFingerprint(ca);
    svc = await startEnrollService(ca, { listenAddr: SERVICE_ADDR, port: 0, autosign: ["auto*"], rateLimit: null });
  });
  after(async () => {
    for (const c of toClose) await c.close();
    await svc?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("backoff grows, is capped, and is jittered", () => {
    const lo = [0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 30_000, () => 0));
    const hi = [0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 30_000, () => 1));
    assert.deepEqual(lo, [500, 1000, 2000, 4000, 15_000]);
    assert.deepEqual(hi, [1000, 2000, 4000, 8000, 30_000]);
  });

  it("refuses a service whose CA does not match the fingerprint, before making a key or sending a CSR", async () => {
    const other = await createCa({ commonName: "someone else" });
    const paths = minionHome("web-wrongfp");
    const c = client({ fingerprint: fingerprint(other.certPem) });
    await rejectsWith(enrollMinion(paths, minionConfig(paths, "web-wrongfp", "127.30.0.9"), { client: c, ...FAST_POLL }), "EnrollError", /not the expected/);
    assert.equal(existsSync(paths.minionKey), false, "no key was made");
    assert.deepEqual(listWaiting(ca), [], "the service never saw a request");
    assert.equal(existsSync(join(ca.signedDir, "web-wrongfp.crt")), false);
  });

  it("accepts the fingerprint typed lower-case or without colons", async () => {
    const bare = fp.replace(/^SHA256:/, "").replace(/:/g, "").toLowerCase();
    assert.equal(await client({ fingerprint: bare }).ca(), caPem);
    assert.throws(() => client({ fingerprint: "SHA256:12:34" }), /not a SHA-256 fingerprint/);
  });

  it("refuses a server with a cert from the right CA but not the service role", async () => {
    // a minion's cert is signed by the same CA: it must not be able to pose as the enrollment service
    const caPair = { keyPem: readFileSync(ca.caKey, "utf8"), certPem: caPem };
    const impostor = await issueCert(caPair, { commonName: "impostor", role: "minion", ipAddresses: [SERVICE_ADDR] });
    const fake = createServer({ key: impostor.keyPem, cert: impostor.certPem + caPem }, (_q, r) => r.end());
    await new Promise<void>((r) => fake.listen(0, SERVICE_ADDR, r));
    try {
      const port = (fake.address() as { port: number }).port;
      const c = client({ fingerprint: fp }, port);
      assert.equal(await c.ca(), caPem, "the pin itself matches");
      await assert.rejects(c.crl(), /not an enrollment service cert/);
    } finally {
      fake.close();
    }
  });

  it("polls until an admin signs, then stores cert, CA and CRL with the key at mode 0600", async () => {
    const paths = minionHome("web1");
    const lines: string[] = [];
    const enrolling = enrollMinion(paths, minionConfig(paths, "web1", "127.30.0.2"), { client: client(), log: (m) => lines.push(m), ...FAST_POLL });
    assert.ok(await eventually(() => listWaiting(ca).some((w) => w.name === "web1")), "the request arrives");
    assert.equal(statSync(paths.minionKey).mode & 0o777, 0o600);
    const waiting = listWaiting(ca).find((w) => w.name === "web1")!;
    assert.equal(waiting.address, "127.30.0.2");
    assert.equal(waiting.port, 51234);
    assert.ok(lines.some((l) => l.includes(waiting.fingerprint)), "the minion shows the same key fingerprint as func-ca list");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(existsSync(paths.minionCert), false, "nothing is installed while waiting");
    await signWaiting(ca, "web1");
    const got = await enrolling;
    assert.equal(readFileSync(paths.minionCert, "utf8"), got.certPem);
    assert.equal(readFileSync(paths.minionCa, "utf8"), caPem);
    assert.deepEqual(crlSerials(readFileSync(paths.minionCrl, "utf8")), []);
    assert.equal(certInfo(got.certPem).commonName, "web1");
    assert.equal(statSync(paths.minionKey).mode & 0o777, 0o600);
    const rec = JSON.parse(readFileSync(join(ca.signedDir, "web1.json"), "utf8"));
    assert.deepEqual([rec.address, rec.port], ["127.30.0.2", 51234]);
  });

  it("a minion restarted while waiting sends the same request again (same key), not a conflicting one", async () => {
    const paths = minionHome("web2");
    const config = minionConfig(paths, "web2", "127.30.0.7");
    const stop = new AbortController();
    const first = enrollMinion(paths, config, { client: client(), signal: stop.signal, ...FAST_POLL });
    assert.ok(await eventually(() => listWaiting(ca).some((w) => w.name === "web2")));
    const keyBefore = readFileSync(paths.minionKey, "utf8");
    const fpBefore = listWaiting(ca).find((w) => w.name === "web2")!.fingerprint;
    stop.abort();
    await rejectsWith(first, "EnrollError", /stopped before the cert was signed/);
    const second = enrollMinion(paths, config, { client: client(), ...FAST_POLL });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(readFileSync(paths.minionKey, "utf8"), keyBefore, "the key is kept");
    assert.deepEqual(listWaiting(ca).filter((w) => w.name === "web2").map((w) => w.fingerprint), [fpBefore]);
    await signWaiting(ca, "web2");
    await second;
    assert.ok(existsSync(paths.minionCert));
  });

  it("autosign enrolls matching names at once; a wildcard listen address records the source address", async () => {
    const paths = minionHome("auto1");
    const config = { ...minionConfig(paths, "auto1", "0.0.0.0") };
    await enrollMinion(paths, config, { client: client(), ...FAST_POLL });
    const rec = JSON.parse(readFileSync(join(ca.signedDir, "auto1.json"), "utf8"));
    assert.equal(rec.address, "127.0.0.1", "the address the service saw the request come from");
  });

  it("refuses a second minion with a name that is already signed, for good (no retry loop)", async () => {
    const paths = minionHome("web1-twin");
    const started = Date.now();
    await rejectsWith(enrollMinion(paths, minionConfig(paths, "web1", "127.30.0.3"), { client: client(), ...FAST_POLL }), "EnrollError", /already has a signed cert/);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(existsSync(paths.minionCert), false);
  });

  it("refuses a revoked name until the admin cleans it", async () => {
    const paths = minionHome("auto-revoked");
    await enrollMinion(paths, minionConfig(paths, "auto-revoked", "127.30.0.4"), { client: client(), ...FAST_POLL });
    await revokeName(ca, "auto-revoked");
    const again = minionHome("auto-revoked-2");
    await rejectsWith(enrollMinion(again, minionConfig(again, "auto-revoked", "127.30.0.4"), { client: client(), ...FAST_POLL }), "EnrollError", /revoked/);
  });

  it("answers hostile requests with faults or 4xx and keeps serving", async () => {
    const f1 = await faultOf(await post(svc, caPem, encodeCall("enroll.submit", [1, 2, 3, new Date().toISOString(), "AAAA"])));
    assert.equal(f1.faultCode, FAULT.BAD_ARGUMENTS);
    const f2 = await faultOf(await post(svc, caPem, encodeCall("system.list_methods", [])));
    assert.equal(f2.faultCode, FAULT.NO_SUCH_METHOD);
    const f3 = await faultOf(await post(svc, caPem, "<not-xml"));
    assert.equal(f3.faultCode, FAULT.NOT_XMLRPC);
    const f4 = await faultOf(await post(svc, caPem, encodeCall("enroll.submit", ["-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "", 0, new Date().toISOString(), "AAAA"])));
    assert.equal(f4.faultCode, FAULT.BAD_ARGUMENTS);
    for (const cn of ["../../etc/passwd", "a/b", "web*"]) {
      const hostile = (await createKeyAndCsr({ commonName: cn })).csrPem;
      assert.equal((await faultOf(await post(svc, caPem, encodeCall("enroll.submit", [hostile, "", 0, new Date().toISOString(), "AAAA"])))).faultCode, FAULT.BAD_ARGUMENTS, cn);
    }
    const badAddress = (await createKeyAndCsr({ commonName: "autoaddr" })).csrPem;
    assert.equal((await faultOf(await post(svc, caPem, encodeCall("enroll.submit", [badAddress, "1.2.3.4; reboot", 0, new Date().toISOString(), "AAAA"])))).faultCode, FAULT.BAD_ARGUMENTS);
    assert.equal((await faultOf(await post(svc, caPem, encodeCall("enroll.submit", [badAddress, "", 99999, new Date().toISOString(), "AAAA"])))).faultCode, FAULT.BAD_ARGUMENTS);
    assert.equal(existsSync(join(ca.signedDir, "autoaddr.crt")), false);
    const nested = encodeCall("enroll.submit", [[[[[["deep"]]]]], "", 0, new Date().toISOString(), "AAAA"]);
    assert.equal((await faultOf(await post(svc, caPem, nested))).faultCode, FAULT.LIMIT_EXCEEDED);
    const big = await post(svc, caPem, Buffer.alloc(ENROLL_MAX_BODY_BYTES + 10, 0x20));
    assert.equal(big.status, 413);
    assert.deepEqual(listWaiting(ca).filter((w) => !w.name.startsWith("web")), []);
    assert.match(await client().crl(), /BEGIN X509 CRL/);
  });

  it("rate-limits requests per source address; the client treats that as worth retrying", async () => {
    const limited = await startEnrollService(ca, { listenAddr: SERVICE_ADDR, port: 0, rateLimit: { burst: 2, perSecond: 0.01 } });
    try {
      const c = client({ fingerprint: fp }, limited.port);
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "ratey" });
      const proof = () => {
        const at = new Date().toISOString();
        return { at, signature: signEnrollClaim(keyPem, { name: "ratey", address: "127.30.0.5", port: 51234, at }) };
      };
      assert.equal((await c.submit(csrPem, "127.30.0.5", 51234, proof())).status, "waiting");
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await c.submit(csrPem, "127.30.0.5", 51234, proof())).status, "waiting");
      const err = await c.submit(csrPem, "127.30.0.5", 51234, proof()).then(
        () => assert.fail("the third request should be limited"),
        (e: unknown) => e,
      );
      assert.match((err as Error).message, /LimitExceeded/);
      assert.equal(isTransient(err), true);
    } finally {
      await limited.close();
    }
  });

  describe("CRL refresh on the minion", () => {
    let crlFile: string;
    let applied: string[];
    const refresher = (c: EnrollClient) =>
      new CrlRefresher({ client: c, caPem, file: crlFile, intervalS: 0, apply: (pem) => applied.push(pem) });

    before(() => {
      crlFile = join(root, "minion-crl.pem");
      applied = [];
    });

    it("fetches a new CRL after a revocation and applies it", async () => {
      const r = refresher(client());
      assert.equal(await r.refresh(), "updated");
      assert.equal(await r.refresh(), "unchanged");
      const paths = minionHome("auto-to-revoke");
      await enrollMinion(paths, minionConfig(paths, "auto-to-revoke", "127.30.0.6"), { client: client(), ...FAST_POLL });
      const { serial } = await revokeName(ca, "auto-to-revoke");
      assert.equal(await r.refresh(), "updated");
      assert.ok(crlSerials(readFileSync(crlFile, "utf8")).includes(serial));
      assert.ok(crlSerials(applied[applied.length - 1]!).includes(serial));
    });

    it("keeps the last good CRL when the service is down", async () => {
      const good = readFileSync(crlFile, "utf8");
      const dead = await startEnrollService(ca, { listenAddr: SERVICE_ADDR, port: 0 });
      const port = dead.port;
      await dead.close();
      const n = applied.length;
      assert.equal(await refresher(client({ caPem }, port)).refresh(), "failed");
      assert.equal(readFileSync(crlFile, "utf8"), good);
      assert.equal(applied.length, n);
    });

    it("refuses a CRL the CA did not sign, and an older one than it holds", async () => {
      const good = readFileSync(crlFile, "utf8");
      const n = applied.length;
      // a service with the right CA and service role, but serving a CRL from another CA or an old one
      const caPair = { keyPem: readFileSync(ca.caKey, "utf8"), certPem: caPem };
      const svcCert = await issueCert(caPair, { commonName: "svc", role: "service", ipAddresses: [SERVICE_ADDR] });
      const other = await createCa({ commonName: "other" });
      const older = await createCrl(caPair, []);
      await new Promise((r) => setTimeout(r, 20)); // CRL numbers are the CA's clock in ms
      // the held CRL must be the newest one: rewrite it after `older`, as the CA would on a revocation
      const held = await createCrl(caPair, [{ serial: "4a", revokedAt: new Date() }]);
      writeFileSync(crlFile, held);
      for (const served of [await createCrl(other, []), older]) {
        const fake = createServer({ key: svcCert.keyPem, cert: svcCert.certPem + caPem }, (_q, res) => {
          const body = `<?xml version="1.0"?><methodResponse><params><param><value><string>${served}</string></value></param></params></methodResponse>`;
          res.writeHead(200, { "Content-Type": "text/xml" });
          res.end(body);
        });
        await new Promise<void>((r) => fake.listen(0, SERVICE_ADDR, r));
        try {
          const port = (fake.address() as { port: number }).port;
          assert.equal(await refresher(client({ caPem }, port)).refresh(), "failed");
          assert.equal(readFileSync(crlFile, "utf8"), held);
        } finally {
          fake.close();
        }
      }
      assert.equal(applied.length, n);
      assert.notEqual(good, held);
      assert.deepEqual(readdirSync(root).filter((f) => f.includes("tmp")), []);
    });
  });
});
