// Enrolling a minion (DESIGN section 9): the key and CSR are made here and the key never leaves the host (key and
// CSR mode 0600); the CSR goes to the pinned enrollment service with a fresh claim signed by the key each time,
// polled with backoff and jitter until an admin (or autosign) signs it; then pki/minion.crt, ca.crt, crl.pem.

import { X509Certificate, createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  FuncError,
  KEY_FILE_MODE,
  canonicalName,
  certInfo,
  checkMinionName,
  createKeyAndCsr,
  fingerprint,
  normalizeFingerprint,
  readCsr,
  signEnrollClaim,
  verifyCert,
  verifyCrl,
  writeFileAtomic,
  type HomePaths,
  type MinionConfig,
} from "@func/shared";
import { isTransient, type EnrollClient } from "./enroll-client.js";

/** First wait between polls, ms (Func's certmaster polled every 10 s, fixed). */
export const ENROLL_POLL_START_MS = 1000;
/** Longest wait between polls, ms: a minion signed by hand is serving within this long. */
export const ENROLL_POLL_MAX_MS = 30_000;
/** Listen addresses that say nothing about where the overlord should dial. */
const WILDCARD_ADDRESSES = new Set(["", "0.0.0.0", "::", "[::]"]);

export interface EnrollOptions {
  client: EnrollClient;
  log?: (message: string) => void;
  /** aborts the wait (SIGTERM while waiting for the admin) */
  signal?: AbortSignal;
  pollStartMs?: number;
  pollMaxMs?: number;
}

export interface Enrolled {
  certPem: string;
  caPem: string;
  crlPem: string;
}

/** Exponential backoff with "equal jitter": half the step is fixed, half random, so many minions spread out. */
export function backoffDelay(attempt: number, startMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, startMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

function keyFingerprint(keyPem: string): string {
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  return normalizeFingerprint(createHash("sha256").update(spki).digest("hex"));
}

/** The address the overlord should dial: advertise_addr, else a specific listen_addr, else "" (the service uses the source address). */
export function advertisedAddress(config: MinionConfig): string {
  if (config.advertiseAddr) return config.advertiseAddr;
  return WILDCARD_ADDRESSES.has(config.listenAddr) ? "" : config.listenAddr;
}

/** The key and CSR to send: the ones already on disk when they belong together and to this name, else new ones. */
async function keyAndCsr(paths: HomePaths, name: string): Promise<{ keyPem: string; csrPem: string; keyFp: string }> {
  if (existsSync(paths.minionKey) && existsSync(paths.minionCsr)) {
    try {
      const keyPem = readFileSync(paths.minionKey, "utf8");
      const csrPem = readFileSync(paths.minionCsr, "utf8");
      const csr = readCsr(csrPem);
      const keyFp = keyFingerprint(keyPem);
      // a restart while waiting resends the same request, so the waiting CSR on the CA matches it
      if (canonicalName(csr.commonName) === canonicalName(name) && csr.publicKeyFingerprint === keyFp) {
        // a CSR left world-readable by an older funcd
        chmodSync(paths.minionCsr, KEY_FILE_MODE);
        return { keyPem, csrPem, keyFp };
      }
    } catch {
      // unreadable leftovers: make a new pair below
    }
  }
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name, dnsNames: [name] });
  writeFileAtomic(paths.minionKey, keyPem, KEY_FILE_MODE);
  // owner-only: nobody else on the host needs the request, and a copy is half of what a replay would need
  writeFileAtomic(paths.minionCsr, csrPem, KEY_FILE_MODE);
  return { keyPem, csrPem, keyFp: keyFingerprint(keyPem) };
}

/** Checks a signed answer before anything is written: our key, our name, the minion role, the pinned CA, a CRL from it. */
async function checkSigned(name: string, keyPem: string, caPem: string, reply: { cert: string; ca: string; crl: string }): Promise<void> {
  const bad = (why: string) => new FuncError("EnrollError", `the enrollment service sent a cert that ${why}: not installing it`);
  let x: X509Certificate;
  try {
    x = new X509Certificate(reply.cert);
  } catch {
    throw bad("does not parse");
  }
  if (fingerprint(reply.ca) !== fingerprint(caPem)) throw bad("comes with another CA than the pinned one");
  if (!(await verifyCert(reply.cert, caPem))) throw bad("is not signed by the pinned CA (or is not valid now)");
  if (!x.checkPrivateKey(createPrivateKey(keyPem))) throw bad("is not for this minion's key");
  const info = certInfo(reply.cert);
  if (canonicalName(info.commonName) !== canonicalName(name)) throw bad(`names "${info.commonName}", not ${name}`);
  if (info.role !== "minion") throw bad(`has the role ${String(info.role)}, not minion`);
  if (!(await verifyCrl(reply.crl, caPem))) throw bad("comes with a CRL the CA did not sign");
}

/**
 * Makes the key and CSR, sends the CSR to the enrollment service and polls until it is signed; then writes the
 * cert, the CA and the CRL. Throws EnrollError when the service refuses for good (wrong CA, name taken, revoked).
 */
export async function enrollMinion(paths: HomePaths, config: MinionConfig, opts: EnrollOptions): Promise<Enrolled> {
  const log = opts.log ?? (() => {});
  const client = opts.client;
  const name = checkMinionName(config.minionName);
  const startMs = opts.pollStartMs ?? ENROLL_POLL_START_MS;
  const maxMs = opts.pollMaxMs ?? ENROLL_POLL_MAX_MS;
  const address = advertisedAddress(config);
  let attempt = 0;
  let announced = false;
  let lastProblem = "";
  // Pin first: no key is made and no CSR sent to a service whose CA is not the expected one.
  let caPem: string | null = null;
  let material: { keyPem: string; csrPem: string; keyFp: string } | null = null;
  for (;;) {
    try {
      caPem ??= await client.ca();
      if (material === null) {
        material = await keyAndCsr(paths, name);
        log(`${name}: asking ${client.where} for a cert (key ${material.keyFp})`);
      }
      const at = new Date().toISOString();
      const signature = signEnrollClaim(material.keyPem, { name: canonicalName(name), address, port: config.listenPort, at });
      const reply = await client.submit(material.csrPem, address, config.listenPort, { at, signature });
      if (reply.status === "signed") {
        await checkSigned(name, material.keyPem, caPem, reply);
        writeFileAtomic(paths.minionCa, reply.ca);
        writeFileAtomic(paths.minionCrl, reply.crl);
        writeFileAtomic(paths.minionCert, reply.cert);
        log(`${name}: enrolled (cert ${fingerprint(reply.cert)})`);
        return { certPem: reply.cert, caPem: reply.ca, crlPem: reply.crl };
      }
      if (!announced) {
        log(`${name}: waiting to be signed: on the overlord run "func-ca sign ${name}" (check the key fingerprint ${reply.fingerprint} in "func-ca list")`);
        announced = true;
      }
      lastProblem = "";
    } catch (err) {
      if (!isTransient(err)) throw err;
      const msg = (err as Error).message;
      if (msg !== lastProblem) log(`${name}: ${msg} (retrying)`);
      lastProblem = msg;
    }
    const wait = backoffDelay(attempt++, startMs, maxMs);
    try {
      await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {});
    } catch {
      throw new FuncError("EnrollError", `${name}: enrollment stopped before the cert was signed`);
    }
  }
}
