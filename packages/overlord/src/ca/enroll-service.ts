// The enrollment service (`func-ca serve`, Func's certmaster on 51235): HTTPS with the CA-signed `service` cert
// and no client cert (minions have none yet), XML-RPC `enroll.submit` and `enroll.crl` over the CA's queue. Bodies
// are bounded, names validated, every submission proves possession of its key, new requests are rate-limited
// and capped per source address, and one source can hold only a few sockets (so the CRL stays fetchable).

import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ENROLL_CODEC_LIMITS,
  ENROLL_CRL,
  ENROLL_MAX_BODY_BYTES,
  ENROLL_SUBMIT,
  FAULT,
  FuncError,
  decodeCall,
  encodeFault,
  encodeResponse,
  type HomePaths,
  type WireValue,
  RPC_PATHS,
  canonicalName,
  ConnectionGuard,
  httpError,
  replyXml,
} from "@func/shared";
import { caExists } from "./ca-files.js";
import { readMinionRecord } from "./ca.js";
import { autosignMatcher, submitCsr, type SubmitResult } from "./enroll-queue.js";
import { refreshCrlIfStale } from "./revocation.js";

/** Per source address: a burst of requests, then a steady rate (requests per second); polling minions back off well below it. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

/** Enough for a rack of minions behind one NAT address polling with backoff; a flood gets LimitExceeded. */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 60, perSecond: 2 };
/** Sources remembered by the rate limiter; past this the table is reset rather than grown. */
const RATE_TABLE_MAX = 10_000;
/** How often the service checks that the CRL is not getting old, ms. */
const CRL_CHECK_MS = 60 * 60 * 1000;
/** TLS handshake, headers and whole-request time limits, ms: requests are small, so these are short. */
const HANDSHAKE_TIMEOUT_MS = 5000;
const HEADERS_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 15_000;
/** How often Node checks the header and request deadlines, ms (its default, 30 s, would let idle sockets sit). */
const DEADLINE_CHECK_MS = 1000;
/** Connections open at once. */
const MAX_CONNECTIONS = 256;
/** Sockets one source address may hold at once: a stranger cannot fill MAX_CONNECTIONS and starve CRL fetches. */
export const MAX_CONNECTIONS_PER_SOURCE = 32;
/** At most one log line per this many ms per kind of refusal (a flood must not flood the log too). */
const REFUSAL_LOG_EVERY_MS = 10_000;

export interface EnrollServiceOptions {
  listenAddr: string;
  port: number;
  /** globs of names signed at once; empty (the default): every request waits for `func-ca sign` */
  autosign?: readonly string[];
  /** null: no limit (the local fleet enrolls thousands of minions from one address) */
  rateLimit?: RateLimit | null;
  maxWaiting?: number;
  /** waiting requests from one source address (csr_max_per_source) */
  maxWaitingPerSource?: number;
  /** seconds a waiting request lives without its minion asking again (csr_ttl) */
  csrTtlS?: number;
  /** sockets one source may hold; null: no cap (the local fleet enrolls thousands of minions from one address) */
  maxConnectionsPerSource?: number | null;
  /** one line per request and per problem */
  log?: (message: string) => void;
}

export interface EnrollService {
  address: string;
  port: number;
  close(): Promise<void>;
}

class RateLimiter {
  readonly #limit: RateLimit;
  readonly #table = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  take(source: string, now = Date.now()): boolean {
    if (this.#table.size >= RATE_TABLE_MAX && !this.#table.has(source)) this.#table.clear();
    const e = this.#table.get(source) ?? { tokens: this.#limit.burst, at: now };
    e.tokens = Math.min(this.#limit.burst, e.tokens + ((now - e.at) / 1000) * this.#limit.perSecond);
    e.at = now;
    this.#table.set(source, e);
    if (e.tokens < 1) return false;
    e.tokens -= 1;
    return true;
  }
}

/** The CRL as served, re-read only when the file changes. */
class CrlCache {
  readonly #file: string;
  #pem = "";
  #stamp = "";

  constructor(file: string) {
    this.#file = file;
  }

  get(): string {
    const st = statSync(this.#file);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp !== this.#stamp) {
      this.#pem = readFileSync(this.#file, "utf8");
      this.#stamp = stamp;
    }
    return this.#pem;
  }
}

function plainAddress(addr: string | undefined): string {
  return (addr ?? "").replace(/^::ffff:/, "");
}

/** Logs a kind of event at most once per REFUSAL_LOG_EVERY_MS, with how many were left out. */
function throttledLog(log: (m: string) => void): (kind: string, message: string) => void {
  const last = new Map<string, { at: number; skipped: number }>();
  return (kind, message) => {
    const now = Date.now();
    const e = last.get(kind);
    if (e && now - e.at < REFUSAL_LOG_EVERY_MS) {
      e.skipped++;
      return;
    }
    if (last.size >= RATE_TABLE_MAX) last.clear();
    last.set(kind, { at: now, skipped: 0 });
    log(e && e.skipped > 0 ? `${message} (and ${e.skipped} more like it)` : message);
  };
}

export async function startEnrollService(paths: HomePaths, opts: EnrollServiceOptions): Promise<EnrollService> {
  if (!caExists(paths) || !existsSync(paths.serviceKey) || !existsSync(paths.serviceCert)) {
    throw new FuncError("ConfigError", `no CA with a service cert in ${paths.caDir}: run "func-ca init"`);
  }
  const log = opts.log ?? (() => {});
  const caPem = readFileSync(paths.caCert, "utf8");
  const autosign = autosignMatcher(opts.autosign ?? []);
  const limiter = opts.rateLimit === null ? null : new RateLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT);
  await refreshCrlIfStale(paths);
  const crl = new CrlCache(paths.crl);
  // a waiting minion polls every few seconds: its first request is worth a line, the repeats are not
  const announced = new Set<string>();

  const limits = {
    autosign,
    ...(opts.maxWaiting ? { maxWaiting: opts.maxWaiting } : {}),
    ...(opts.maxWaitingPerSource ? { maxPerSource: opts.maxWaitingPerSource } : {}),
    ...(opts.csrTtlS !== undefined ? { ttlS: opts.csrTtlS } : {}),
  };
  const refusal = throttledLog(log);

  const submit = async (params: WireValue[], source: string): Promise<WireValue> => {
    const [csr, address, port, at, signature] = params;
    if (params.length !== 5 || typeof csr !== "string" || typeof address !== "string" || typeof port !== "number" || typeof at !== "string" || typeof signature !== "string") {
      throw new FuncError("BadArguments", `${ENROLL_SUBMIT}(csrPem: string, address: string, port: int, signedAt: string, signature: base64 string)`);
    }
    if (limiter && !limiter.take(source)) {
      refusal(`rate:${source}`, `submit from ${source}: refused: over the rate limit`);
      throw new FuncError("LimitExceeded", "too many requests from this address: slow down");
    }
    let r: SubmitResult;
    try {
      // the claim covers the address as the minion sent it ("" = use the source address)
      r = await submitCsr(paths, csr, { address: address || source, port, source, proof: { at, signature, address } }, limits);
    } catch (err) {
      const e = err as FuncError;
      const kind = e.type === "LimitExceeded" ? `cap:${e.message}` : `refused:${source}:${e.message}`;
      refusal(kind, `submit from ${source}: refused: ${e.message}`);
      throw err;
    }
    if (r.status === "signed") {
      // a signed minion's address moves only by the admin: say so when it asks for another one
      const rec = readMinionRecord(paths, r.name);
      const asked = canonicalName(address || source);
      if (rec?.address !== undefined && canonicalName(rec.address) !== asked) {
        refusal(`moved:${r.name}`, `submit ${r.name} from ${source}: asks to be dialled at ${asked}, recorded ${rec.address}: "func-ca set-address ${r.name} ${asked}" if it moved`);
      }
    }
    if (r.status === "signed" || !announced.has(r.name)) log(`submit ${r.name} from ${source}: ${r.status}`);
    if (r.status === "waiting") {
      if (announced.size >= RATE_TABLE_MAX) announced.clear();
      announced.add(r.name);
    }
    else announced.delete(r.name);
    return r.status === "signed" ? { status: "signed", cert: r.certPem, ca: caPem, crl: crl.get() } : { status: "waiting", fingerprint: r.fingerprint };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const source = plainAddress(req.socket.remoteAddress);
    if (req.method !== "POST") return httpError(res, 405, { Allow: "POST" });
    if (!RPC_PATHS.has((req.url ?? "").split("?")[0]!)) return httpError(res, 404);
    if (Number(req.headers["content-length"] ?? 0) > ENROLL_MAX_BODY_BYTES) return httpError(res, 413);
    const body = await readBody(req, ENROLL_MAX_BODY_BYTES);
    if (body === null) return httpError(res, 413);
    try {
      const call = await decodeCall(body, ENROLL_CODEC_LIMITS);
      let value: WireValue;
      if (call.method === ENROLL_SUBMIT) value = await submit(call.params, source);
      else if (call.method === ENROLL_CRL) value = crl.get();
      else throw new FuncError("NoSuchMethod", `${call.method} (the enrollment service knows ${ENROLL_SUBMIT} and ${ENROLL_CRL})`);
      replyXml(res, encodeResponse(value));
    } catch (err) {
      const e = err instanceof FuncError ? err : new FuncError("MethodError", "internal error", { cause: err });
      if (!(err instanceof FuncError)) log(`internal error: ${(err as Error).stack ?? String(err)}`);
      const code = e.code < 100 ? e.code : FAULT.METHOD_RAISED;
      replyXml(res, encodeFault(code, e.faultString));
    }
  };

  const server = createServer(
    {
      key: readFileSync(paths.serviceKey, "utf8"),
      // the chain includes the CA: a new minion reads it from the handshake and checks its fingerprint
      cert: readFileSync(paths.serviceCert, "utf8") + caPem,
      minVersion: "TLSv1.2",
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: DEADLINE_CHECK_MS,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => void handle(req, res),
  );
  server.maxConnections = MAX_CONNECTIONS;
  const perSource = opts.maxConnectionsPerSource === undefined ? MAX_CONNECTIONS_PER_SOURCE : opts.maxConnectionsPerSource;
  if (perSource !== null) {
    // the pre-TLS guard funcd uses too (@func/shared connection-guard); the service has no privileged callers
    new ConnectionGuard({ maxConnections: MAX_CONNECTIONS, maxPerAddress: perSource, reserved: 0 }).attach(server, (verdict, address) => {
      const source = plainAddress(address);
      refusal(
        `sockets:${source}`,
        verdict === "over-address-cap" ? `${source} holds ${perSource} connections already: closing its new ones` : `over ${MAX_CONNECTIONS} connections: closing ${source}'s new one`,
      );
    });
  }
  server.on("tlsClientError", () => {
    // a client that gave up after seeing the CA (wrong fingerprint) ends its handshake here: nothing to do
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  const timer = setInterval(() => {
    refreshCrlIfStale(paths).then(
      (wrote) => wrote && log("re-signed the CRL (it was past half its life)"),
      (err: unknown) => log(`could not re-sign the CRL: ${(err as Error).message}`),
    );
  }, CRL_CHECK_MS);
  timer.unref();

  const bound = await new Promise<{ address: string; port: number }>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.listenAddr, () => {
      server.off("error", reject);
      const a = server.address();
      if (a === null || typeof a === "string") return reject(new Error("enrollment service has no address"));
      resolve({ address: a.address, port: a.port });
    });
  }).catch((err: unknown) => {
    clearInterval(timer);
    const e = err as NodeJS.ErrnoException;
    throw new FuncError("ConfigError", `cannot listen on ${opts.listenAddr}:${opts.port}: ${e.code ?? e.message}`, { cause: err });
  });

  return {
    ...bound,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The body, or null as soon as it passes `limit` bytes (the rest is never buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Buffer | null) => {
      if (done) return;
      done = true;
      resolve(v);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", () => finish(null));
  });
}
