// The enrollment queue: requests from minions (pki/ca/csrs/<name>.csr, with <name>.csr.json holding the address
// they asked for, where they came from and when), decided at once (autosign, or the same key already signed) or
// kept for `func-ca sign`. Every submission proves possession of its key; requests expire and are capped per source.

import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import {
  DEFAULTS,
  ENROLL_PROOF_MAX_SKEW_MS,
  FuncError,
  canonicalMinionName,
  csrFile,
  globToRegExp,
  isValidMinionName,
  readCsr,
  verifyEnrollClaim,
  type HomePaths,
} from "@func/shared";
import { csrMetaFile, publishExclusive, readIfExists, readJson, writeAtomic } from "./ca-files.js";
import { checkCaFormat } from "./ca-format.js";
import { checkAddress, checkPort, existingSameKey, readValidCsr, signMinionCsr, type MinionRecord } from "./ca.js";
import { checkFreeForMinion } from "./ca-names.js";
import { withCaLock } from "./ca-lock.js";

/** Most requests left waiting for `func-ca sign` at once: more answer LimitExceeded (bounds disk use by strangers). */
export const MAX_WAITING_CSRS = 1000;
/** Most waiting requests from one source address (overlord.conf csr_max_per_source). */
export const MAX_WAITING_PER_SOURCE = DEFAULTS.overlord.csrMaxPerSource;
/** A waiting request its minion has not repeated for this long is dropped, s (overlord.conf csr_ttl). */
export const CSR_TTL_S = DEFAULTS.overlord.csrTtlS;

/** What a submission must carry from the enrollment service: the minion's signature over its claim. */
export interface EnrollProof {
  /** ISO time the minion signed the claim */
  at: string;
  /** base64 signature by the CSR's key over (name, address, port, at): see @func/shared enroll-proof */
  signature: string;
  /** the address as the minion signed it, when the request's differs ("" signed: the service used the source) */
  address?: string;
}

export interface EnrollRequest extends MinionRecord {
  /** the address the request came from (for the admin's eyes, and the per-source cap) */
  source?: string;
  /** required by the enrollment service for every submission; direct callers with the CA files may omit it */
  proof?: EnrollProof;
}

export interface QueueLimits {
  autosign?: (name: string) => boolean;
  maxWaiting?: number;
  maxPerSource?: number;
  ttlS?: number;
  now?: number;
}

export interface WaitingCsr {
  name: string;
  /** of the requested public key: what the minion printed when it asked */
  fingerprint: string;
  address: string | null;
  port: number | null;
  source: string | null;
  requested: string | null;
  lastSeen: string | null;
  /** seconds since the request was first seen */
  ageS: number | null;
}

export type SubmitResult = { status: "signed"; name: string; certPem: string } | { status: "waiting"; name: string; fingerprint: string };

interface CsrMeta {
  address?: string;
  port?: number;
  source?: string;
  requested?: string;
  lastSeen?: string;
  /** the newest signed claim's time: an older or equal one is a replay */
  proofAt?: string;
}

/** A predicate for the `autosign` setting: a name matching any glob is signed without `func-ca sign`. */
export function autosignMatcher(globs: readonly string[]): (name: string) => boolean {
  const exact = new Set(globs.filter((g) => !/[*?[]/.test(g)).map((g) => g.toLowerCase()));
  const patterns = globs.filter((g) => /[*?[]/.test(g)).map((g) => globToRegExp(g));
  return (name) => exact.has(name.toLowerCase()) || patterns.some((re) => re.test(name));
}

/** Checks the submission's proof of possession: signed by the CSR's key, over this very address and port, fresh. */
function checkProof(csrPem: string, name: string, address: string, port: number, proof: EnrollProof, prev: CsrMeta, now: number): void {
  const at = Date.parse(proof.at);
  if (typeof proof.at !== "string" || !Number.isFinite(at)) throw new FuncError("BadArguments", "the enrollment claim has no valid time");
  if (Math.abs(at - now) > ENROLL_PROOF_MAX_SKEW_MS) {
    // worth retrying (the client does): NTP may be about to fix the clock
    throw new FuncError("MethodError", `the enrollment claim was signed ${Math.round((now - at) / 1000)} s away from the service's clock: fix the minion's clock (NTP)`);
  }
  if (!verifyEnrollClaim(csrPem, { name, address, port, at: proof.at }, proof.signature)) {
    throw new FuncError("AccessDenied", `the enrollment claim for ${name} is not signed by the key of its CSR`);
  }
  if (prev.proofAt !== undefined && Date.parse(prev.proofAt) >= at) {
    // a replay, or the minion's clock went back: worth retrying with a newer claim, never a state change
    throw new FuncError("MethodError", `the enrollment claim for ${name} is not newer than the last one (a replay, or a clock that went back)`);
  }
}

/**
 * What the enrollment service does with a request: sign it at once (autosign, or the same key is already signed),
 * keep it waiting for `func-ca sign`, or refuse it (a throw: AccessDenied, BadArguments, LimitExceeded).
 * A repeat of a waiting request with the same key keeps waiting (with a proof, it may change the address it
 * asks for); another key for a waiting name is refused. A signed minion's address is never changed here.
 */
export async function submitCsr(paths: HomePaths, csrPem: string, req: EnrollRequest, opts: QueueLimits = {}): Promise<SubmitResult> {
  const now = opts.now ?? Date.now();
  checkCaFormat(paths);
  const { name, publicKeyFingerprint } = await readValidCsr(csrPem);
  const address = req.address ? checkAddress(req.address) : undefined;
  const port = checkPort(req.port);
  checkFreeForMinion(paths, name);
  const prev = readJson<CsrMeta>(csrMetaFile(paths, name)) ?? {};
  if (req.proof) checkProof(csrPem, name, req.proof.address ?? req.address ?? "", req.port ?? 0, req.proof, prev, now);
  const signed = existingSameKey(paths, name, publicKeyFingerprint);
  if (signed !== null) return { status: "signed", name, certPem: signed };

  const rec: MinionRecord = { ...(address ? { address } : {}), ...(port ? { port } : {}) };
  const waitingPem = readIfExists(csrFile(paths, name));
  if (waitingPem !== null) {
    let waitingKey: string | null = null;
    try {
      waitingKey = readCsr(waitingPem).publicKeyFingerprint;
    } catch {
      // a damaged waiting file: treated as another key, the admin cleans it
    }
    if (waitingKey !== publicKeyFingerprint) {
      throw new FuncError("AccessDenied", `another request for ${name} (another key) is waiting: "func-ca clean ${name}" first`);
    }
  }
  if (opts.autosign?.(name)) {
    const certPem = await signMinionCsr(paths, csrPem, rec);
    return { status: "signed", name, certPem };
  }
  if (waitingPem === null) {
    const waiting = scanWaiting(paths, opts.ttlS ?? CSR_TTL_S, now);
    if (waiting.length >= (opts.maxWaiting ?? MAX_WAITING_CSRS)) {
      throw new FuncError("LimitExceeded", "too many requests are waiting to be signed: try again later");
    }
    const perSource = opts.maxPerSource ?? MAX_WAITING_PER_SOURCE;
    if (req.source && waiting.filter((w) => w.meta.source === req.source).length >= perSource) {
      throw new FuncError("LimitExceeded", `too many requests from ${req.source} are waiting to be signed (${perSource}): try again later`);
    }
    // published under the CA lock, as minion certs and identities are: a name is one or the other
    const published = await withCaLock(paths, async () => {
      checkFreeForMinion(paths, name);
      return publishExclusive(csrFile(paths, name), csrPem);
    });
    if (!published) {
      // a concurrent first request for this name: decide again against what it wrote
      return submitCsr(paths, csrPem, req, opts);
    }
  }
  const stamp = new Date(now).toISOString();
  const meta: CsrMeta = {
    ...rec,
    ...(req.source ? { source: req.source } : {}),
    requested: waitingPem === null ? stamp : (prev.requested ?? stamp),
    lastSeen: stamp,
    ...(req.proof ? { proofAt: req.proof.at } : prev.proofAt ? { proofAt: prev.proofAt } : {}),
  };
  writeAtomic(csrMetaFile(paths, name), JSON.stringify(meta) + "\n");
  return { status: "waiting", name, fingerprint: publicKeyFingerprint };
}

interface Waiting {
  name: string;
  file: string;
  meta: CsrMeta;
  lastSeenMs: number;
}

/**
 * The waiting requests, after dropping those not repeated for `ttlS` seconds (their minion stopped asking: a
 * flood, or a host gone). A request without a readable record counts from its file's time.
 */
function scanWaiting(paths: HomePaths, ttlS: number, now: number): Waiting[] {
  let files: string[];
  try {
    files = readdirSync(paths.csrDir).filter((f) => f.endsWith(".csr")).sort();
  } catch {
    return [];
  }
  const out: Waiting[] = [];
  for (const f of files) {
    const name = basename(f, ".csr");
    const file = join(paths.csrDir, f);
    const meta = readJson<CsrMeta>(csrMetaFile(paths, name)) ?? {};
    let seen = Date.parse(meta.lastSeen ?? meta.requested ?? "");
    if (!Number.isFinite(seen)) {
      try {
        seen = statSync(file).mtimeMs;
      } catch {
        continue;
      }
    }
    if (ttlS > 0 && now - seen > ttlS * 1000) {
      try {
        rmSync(file, { force: true });
        rmSync(csrMetaFile(paths, name), { force: true });
      } catch {
        // a reader without write access (func-web, another user): expired is still not shown
      }
      continue;
    }
    out.push({ name, file, meta, lastSeenMs: seen });
  }
  return out;
}

/** The waiting requests, oldest expired first (see scanWaiting), with what `func-ca list` shows the admin. */
export function listWaiting(paths: HomePaths, opts: { ttlS?: number; now?: number } = {}): WaitingCsr[] {
  const now = opts.now ?? Date.now();
  checkCaFormat(paths);
  return scanWaiting(paths, opts.ttlS ?? CSR_TTL_S, now)
    .filter((w) => isValidMinionName(w.name))
    .map(({ name, file, meta }) => {
      let fp = "unreadable";
      try {
        fp = readCsr(readFileSync(file, "utf8")).publicKeyFingerprint;
      } catch {
        // shown as unreadable: "func-ca clean" removes it
      }
      const requested = Date.parse(meta.requested ?? "");
      return {
        name,
        fingerprint: fp,
        address: meta.address ?? null,
        port: meta.port ?? null,
        source: meta.source ?? null,
        requested: meta.requested ?? null,
        lastSeen: meta.lastSeen ?? null,
        ageS: Number.isFinite(requested) ? Math.max(0, Math.round((now - requested) / 1000)) : null,
      };
    });
}

/** Signs the waiting request for `name` with the address it asked for; returns the cert's path. */
export async function signWaiting(paths: HomePaths, name: string): Promise<string> {
  const n = canonicalMinionName(name);
  const csrPem = readIfExists(csrFile(paths, n));
  if (csrPem === null) throw new FuncError("NotFound", `no request from ${n} is waiting (see "func-ca list")`);
  const meta = readJson<CsrMeta>(csrMetaFile(paths, n)) ?? {};
  await signMinionCsr(paths, csrPem, { ...(meta.address ? { address: meta.address } : {}), ...(meta.port ? { port: meta.port } : {}) });
  return join(paths.signedDir, `${n}.crt`);
}
