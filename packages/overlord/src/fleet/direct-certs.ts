// func-fleet --certs direct: the fleet's CA issues each minion's key and cert itself and installs them in the
// minion's home (pki/minion.key, minion.crt, ca.crt, crl.pem), with no enrollment service and no round trip.
// For the local fleet only (a real host enrolls: funcd makes its own key); each minion still has its own key.

import { copyFileSync, existsSync } from "node:fs";
import { KEY_FILE_MODE, signedCertFile, writeFileAtomic, type HomePaths } from "@func/shared";
import { issueMinionCert } from "../ca/ca.js";

/**
 * Gives the minion at `minionHome` its own key and a cert from the CA in `paths` (recording its address as
 * enrollment would), unless it has both already from an earlier `up` of this home. Returns whether it issued.
 */
export async function installDirectCert(paths: HomePaths, minionHome: HomePaths, minion: { name: string; address: string; port: number }): Promise<boolean> {
  if (existsSync(minionHome.minionKey) && existsSync(minionHome.minionCert) && existsSync(signedCertFile(paths, minion.name))) return false;
  const pair = await issueMinionCert(paths, minion.name, { address: minion.address, port: minion.port });
  writeFileAtomic(minionHome.minionKey, pair.keyPem, KEY_FILE_MODE);
  copyFileSync(paths.caCert, minionHome.minionCa);
  copyFileSync(paths.crl, minionHome.minionCrl);
  writeFileAtomic(minionHome.minionCert, pair.certPem);
  return true;
}
