// func-web's TLS identity: a `service`-role cert from the func CA, issued the first time the service starts
// (pki/web.key, pki/web.crt) with SANs for localhost, 127.0.0.1, the host name and the listen address.

import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { FuncError, KEY_FILE_MODE, certInfo, issueCert, writeFileAtomic, type HomePaths } from "@func/shared";
import { loadCa } from "@func/overlord";

/** Re-issue the cert when it has less than this left, ms. */
const RENEW_BEFORE_MS = 14 * 86400_000;

export interface WebCert {
  key: string;
  cert: string;
  ca: string;
  keyFile: string;
  certFile: string;
  issued: boolean;
}

export async function ensureWebCert(paths: HomePaths, listenAddr: string): Promise<WebCert> {
  const keyFile = join(paths.pkiDir, "web.key");
  const certFile = join(paths.pkiDir, "web.crt");
  if (!existsSync(paths.caCert)) throw new FuncError("ConfigError", `no CA in ${paths.caDir}: run "func-ca init" on the overlord first`);
  const ca = readFileSync(paths.caCert, "utf8");
  let issued = false;
  const fresh = existsSync(keyFile) && existsSync(certFile) && certInfo(readFileSync(certFile, "utf8")).notAfter.getTime() - Date.now() > RENEW_BEFORE_MS;
  if (!fresh) {
    const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, "-") || "localhost";
    const ips = ["127.0.0.1", ...(isIP(listenAddr) && listenAddr !== "0.0.0.0" && listenAddr !== "127.0.0.1" && listenAddr !== "::" ? [listenAddr] : [])];
    const names = [...new Set(["localhost", host, ...(isIP(listenAddr) ? [] : [listenAddr])])];
    const pair = await issueCert(loadCa(paths), { commonName: host, role: "service", dnsNames: names, ipAddresses: ips });
    writeFileAtomic(keyFile, pair.keyPem, KEY_FILE_MODE);
    writeFileAtomic(certFile, pair.certPem);
    issued = true;
  }
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), ca, keyFile, certFile, issued };
}
