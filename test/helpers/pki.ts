// Test helper: a throwaway CA and a minion home with a signed cert, for tests that start an in-process
// minion (real TLS on loopback) rather than a whole fleet.

import { mkdirSync, writeFileSync } from "node:fs";
import { createCa, homePaths, issueCert, type CertPair, type HomePaths } from "@func/shared";

export interface TestPki {
  ca: CertPair;
  overlord: CertPair;
  minion: CertPair;
  paths: HomePaths;
}

/** A CA, an overlord identity and a minion home (key, cert, CA cert) under `dir`. */
export async function makeMinionHome(dir: string, name = "minion-test", address = "127.0.0.1"): Promise<TestPki> {
  const ca = await createCa({ commonName: "func test CA" });
  const overlord = await issueCert(ca, { commonName: "overlord@test", role: "overlord", dnsNames: ["overlord-test"] });
  const minion = await issueCert(ca, { commonName: name, role: "minion", dnsNames: [name], ipAddresses: [address] });
  const paths = homePaths(dir);
  mkdirSync(paths.pkiDir, { recursive: true });
  writeFileSync(paths.minionKey, minion.keyPem, { mode: 0o600 });
  writeFileSync(paths.minionCert, minion.certPem);
  writeFileSync(paths.minionCa, ca.certPem);
  writeFileSync(paths.minionConf, `[main]\nminion_name = ${name}\nlisten_addr = ${address}\nlisten_port = 0\n`);
  return { ca, overlord, minion, paths };
}
