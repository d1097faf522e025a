// Mutual TLS refuses what it must, in both directions, with real minions on 127.32.0.x: a caller with no cert,
// another CA's cert, an expired cert or a revoked cert fails the handshake; so does a minion with another CA's,
// an expired or a revoked cert, seen from the overlord. Each refusal has a control that passes, and each says
// what to do: the overlord's line names the likely cause, the minion logs the handshakes it refused.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { createCa, createCrl, certInfo, homePaths, issueCert, type CertPair, type HostResult } from "@func/shared";
import { startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport } from "@func/overlord";
import type { TlsMaterial } from "@func/shared";
import { tempHome } from "./helpers/fleet.js";

const DAY = 24 * 3600 * 1000;

function message(r: HostResult): string {
  return "error" in r ? r.error.message : "";
}

describe("TLS refusals in both directions", function () {
  this.timeout(60_000);
  let root: string;
  let ca: CertPair;
  let otherCa: CertPair;
  let overlord: CertPair;
  let revokedCaller: CertPair;
  const minions: Record<string, StartedMinion> = {};
  /** what each minion logged */
  const logs: Record<string, string[]> = {};

  /** A minion home with the given cert (and CRL), started on `address`. */
  async function minion(name: string, address: string, cert: CertPair, trust: CertPair, crl?: string): Promise<StartedMinion> {
    const paths = homePaths(join(root, name));
    mkdirSync(paths.pkiDir, { recursive: true });
    writeFileSync(paths.minionKey, cert.keyPem, { mode: 0o600 });
    writeFileSync(paths.minionCert, cert.certPem);
    writeFileSync(paths.minionCa, trust.certPem);
    if (crl) writeFileSync(paths.minionCrl, crl);
    writeFileSync(paths.minionConf, `[main]\nminion_name = ${name}\nlisten_addr = ${address}\nlisten_port = 0\n`);
    const m = await startMinion(paths, {}, { log: (line) => (logs[name] ??= []).push(line) });
    minions[name] = m;
    return m;
  }

  async function call(identity: TlsMaterial, m: StartedMinion, name = m.name): Promise<HostResult> {
    const t = new MinionTransport(identity);
    try {
      return await t.call({ name, host: m.address, port: m.port }, "test.ping", [], { timeoutMs: 10_000 });
    } finally {
      t.close();
    }
  }

  const id = (pair: CertPair, extra: Partial<TlsMaterial> = {}): TlsMaterial => ({ key: pair.keyPem, cert: pair.certPem, ca: ca.certPem, ...extra });

  before(async () => {
    root = tempHome("tls-refusal");
    ca = await createCa({ commonName: "func test CA" });
    otherCa = await createCa({ commonName: "another CA" });
    overlord = await issueCert(ca, { commonName: "overlord@test", role: "overlord", dnsNames: ["overlord-test"] });
    revokedCaller = await issueCert(ca, { commonName: "overlord@old", role: "overlord", dnsNames: ["overlord-old"] });
    const crl = await createCrl(ca, [{ serial: certInfo(revokedCaller.certPem).serial, revokedAt: new Date() }]);
    const leaf = (name: string, address: string, issuer = ca, times: { notBefore?: Date; notAfter?: Date } = {}) =>
      issueCert(issuer, { commonName: name, role: "minion", dnsNames: [name], ipAddresses: [address], ...times });
    await minion("guarded1", "127.32.0.2", await leaf("guarded1", "127.32.0.2"), ca, crl);
    await minion("open1", "127.32.0.3", await leaf("open1", "127.32.0.3"), ca);
    await minion("foreign1", "127.32.0.4", await leaf("foreign1", "127.32.0.4", otherCa), otherCa);
    const past = { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) };
    await minion("stale1", "127.32.0.5", await leaf("stale1", "127.32.0.5", ca, past), ca);
    await minion("revoked1", "127.32.0.6", await leaf("revoked1", "127.32.0.6"), ca);
    // the dialled name as CN and SAN, but a user's role: what `func-ca issue <minion name>` used to hand out
    await minion("userrole1", "127.32.0.7", await issueCert(ca, { commonName: "userrole1", role: "user", dnsNames: ["userrole1"], ipAddresses: ["127.32.0.7"] }), ca);
    // the minion role and the dialled name in a SAN, but another CN: what an enrollee's asserted address used to give
    await minion("sanonly1", "127.32.0.8", await issueCert(ca, { commonName: "stranger1", role: "minion", dnsNames: ["stranger1", "sanonly1"], ipAddresses: ["127.32.0.8"] }), ca);
  });
  after(async () => {
    await Promise.all(Object.values(minions).map((m) => m.close()));
    rmSync(root, { recursive: true, force: true });
  });

  describe("the minion refuses callers", () => {
    it("control: the overlord's cert is accepted", async () => {
      assert.equal((await call(id(overlord), minions.guarded1!)).outcome, "ok");
    });

    it("a caller without a cert", async () => {
      const m = minions.guarded1!;
      await assert.rejects(
        new Promise((resolve, reject) => {
          const req = request({ host: m.address, port: m.port, method: "POST", path: "/", ca: ca.certPem, servername: m.name, agent: false }, resolve);
          req.on("error", reject);
          req.end("<methodCall><methodName>test.ping</methodName><params/></methodCall>");
        }),
      );
    });

    it("a caller with another CA's cert, even one claiming the overlord role", async () => {
      const impostor = await issueCert(otherCa, { commonName: "overlord@test", role: "overlord", dnsNames: ["overlord-test"] });
      const r = await call(id(impostor), minions.guarded1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /closed the connection before answering .*its funcd log says why/);
    });

    it("the minion logs refused handshakes (the caller sees only a closed connection), at most one line per 10 s", async () => {
      const refusals = (logs.guarded1 ?? []).filter((l) => l.includes("TLS handshake(s) refused"));
      // two refusals so far (no cert, another CA's): one line, unless 10 s passed between them on a loaded machine
      assert.ok(refusals.length >= 1 && refusals.length <= 2, JSON.stringify(logs.guarded1));
      assert.match(refusals[0]!, /^1 TLS handshake\(s\) refused, last from 127\.0\.0\.1: .+/);
    });

    it("a caller with an expired cert", async () => {
      const expired = await issueCert(ca, {
        commonName: "overlord@test",
        role: "overlord",
        dnsNames: ["overlord-test"],
        notBefore: new Date(Date.now() - 10 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const r = await call(id(expired), minions.guarded1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /closed the connection before answering .*its funcd log says why/);
    });

    it("a caller whose cert is in the minion's CRL (control: a minion without that CRL accepts it)", async () => {
      assert.equal((await call(id(revokedCaller), minions.open1!)).outcome, "ok");
      const r = await call(id(revokedCaller), minions.guarded1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /closed the connection before answering .*its funcd log says why/);
    });

    it("a CRL installed while running (what the CRL refresher does) refuses new connections at once", async () => {
      const m = minions.open1!;
      const victim = await issueCert(ca, { commonName: "ops-soon-gone", role: "overlord", dnsNames: ["ops"] });
      assert.equal((await call(id(victim), m)).outcome, "ok");
      m.server.updateTls({ crl: await createCrl(ca, [{ serial: certInfo(victim.certPem).serial, revokedAt: new Date() }]) });
      assert.equal((await call(id(victim), m)).outcome, "unreachable");
      assert.equal((await call(id(overlord), m)).outcome, "ok", "others still get in");
    });
  });

  describe("the overlord refuses minions", () => {
    it("a minion whose cert comes from another CA", async () => {
      const r = await call(id(overlord), minions.foreign1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /certificate/i);
      assert.match(message(r), /not from this overlord's CA .*check FUNC_HOME/);
      // with a CRL, as every real overlord has, OpenSSL names the missing CRL instead: the same advice
      const crl = await createCrl(ca, []);
      const withCrl = await call(id(overlord, { crl }), minions.foreign1!);
      assert.equal(withCrl.outcome, "unreachable", JSON.stringify(withCrl));
      assert.match(message(withCrl), /not from this overlord's CA .*check FUNC_HOME/);
    });

    it("a minion with an expired cert", async () => {
      const r = await call(id(overlord), minions.stale1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /expired/i);
      assert.match(message(r), /re-enroll it/);
    });

    it("a minion whose cert is in the overlord's CRL (control: without the CRL it answers)", async () => {
      const m = minions.revoked1!;
      assert.equal((await call(id(overlord), m)).outcome, "ok");
      const serial = certInfo(readFileSync(join(root, "revoked1", "pki", "minion.crt"), "utf8")).serial;
      const crl = await createCrl(ca, [{ serial, revokedAt: new Date() }]);
      const r = await call(id(overlord, { crl }), m);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /revoked/i);
    });

    it("an expired CRL on the overlord (a second overlord without the CA key) still refuses what it lists, and no more", async () => {
      const m = minions.revoked1!;
      const serial = certInfo(readFileSync(join(root, "revoked1", "pki", "minion.crt"), "utf8")).serial;
      const crl = await createCrl(ca, [{ serial, revokedAt: new Date() }], { nextUpdateDays: 1 / 86_400_000 });
      await new Promise((r) => setTimeout(r, 1500));
      const r = await call(id(overlord, { crl }), m);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /revoked/i);
      const other = await call(id(overlord, { crl }), minions.open1!);
      assert.equal(other.outcome, "ok", `a minion the expired CRL does not list is still reached: ${JSON.stringify(other)}`);
    });

    it("a peer with the dialled name but not the minion role (a user identity)", async () => {
      const r = await call(id(overlord), minions.userrole1!);
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.match(message(r), /not minion userrole1's/);
    });

    it("a minion whose SANs cover the dialled name but whose CN is another minion's", async () => {
      const r = await call(id(overlord), minions.sanonly1!, "sanonly1");
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
      assert.equal((await call(id(overlord), minions.sanonly1!, "stranger1")).outcome, "ok", "control: dialled by its CN it answers");
    });

    it("a minion answering under another name than the one dialled", async () => {
      const r = await call(id(overlord), minions.open1!, "guarded1");
      assert.equal(r.outcome, "unreachable", JSON.stringify(r));
    });
  });
});
