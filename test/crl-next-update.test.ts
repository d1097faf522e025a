// crlNextUpdate: the CRL date read straight from the DER (for checks on every call and start) must agree
// with the full parser, and refuse what is not a CRL.

import assert from "node:assert/strict";
import { certInfo, createCa, createCrl, crlInfo, crlNextUpdate, issueCert } from "@func/shared";

describe("crlNextUpdate", () => {
  it("agrees with crlInfo for empty and non-empty CRLs of any lifetime", async () => {
    const ca = await createCa({ commonName: "crl test CA" });
    const leaf = await issueCert(ca, { commonName: "m1", role: "minion", dnsNames: ["m1"] });
    const serial = certInfo(leaf.certPem).serial;
    for (const [revoked, days] of [[[], 30], [[{ serial, revokedAt: new Date() }], 1], [[], 3650]] as const) {
      const pem = await createCrl(ca, revoked, { nextUpdateDays: days });
      const next = crlNextUpdate(pem);
      assert.ok(next);
      assert.equal(next.getTime(), crlInfo(pem).nextUpdate?.getTime());
      assert.ok(Math.abs(next.getTime() - (Date.now() + days * 86_400_000)) < 120_000);
    }
  });

  it("throws on what is not a CRL, as crlInfo does", async () => {
    const ca = await createCa({ commonName: "crl test CA" });
    assert.throws(() => crlNextUpdate(ca.certPem));
    assert.throws(() => crlNextUpdate("-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n"));
    assert.throws(() => crlNextUpdate("garbage"));
  });
});
