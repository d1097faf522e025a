// funcd's HTTPS endpoint: mutual TLS (the peer chain must reach the func CA, CRL enforced), then
// body limits -> decode -> ACL -> registry -> method -> encoded answer. Every failure is a fault or a 4xx,
// never a crash and never a hang; every call that got past TLS is audited.

import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  ASYNC_METHOD_PREFIX,
  ConnectionGuard,
  FAULT,
  FuncError,
  TLS_SESSION_LIFETIME_S,
  JOB_ID_HEADER,
  canonicalName,
  CALLER_HEADER,
  PATH_HEADER,
  formatPath,
  parsePath,
  decodeCall,
  encodeFault,
  encodeResponseBytes,
  type HomePaths,
  type MinionConfig,
  type TlsMaterial,
  type WireValue,
  RPC_PATHS,
  httpError,
  replyXml,
  BYTES_ANSWER_HEADER,
  BYTES_ANSWER_VALUE,
  BYTES_CONTENT_TYPE,
  BYTES_FIELDS_HEADER,
  bytesAnswerFields,
} from "@func/shared";
import { Acl, OVERLORD_ROLE } from "./acl.js";
import { CrlGate } from "./crl-gate.js";
import { AuditLog } from "./audit.js";
import { ByteBudget } from "./byte-budget.js";
import { MODULES } from "./modules/index.js";
import { Registry, faultFor, type CallContext, type JobsService, type MethodSpec } from "./registry.js";

/** Prefix that turns a call into a background job on the minion. */
export const ASYNC_PREFIX = ASYNC_METHOD_PREFIX;
/** HTTP header carrying the overlord's job id: a repeat with the same key returns the existing minion job. */
export const IDEMPOTENCY_HEADER = JOB_ID_HEADER;
/** Size of Node's TLS session ticket keys (name, HMAC and AES keys). */
const TICKET_KEYS_BYTES = 48;
/**
 * Longest gap between checks of header and request deadlines, ms. Node checks them on a timer (30 s by
 * default), so without this a slowloris or an idle connection holds its slot far past headers_timeout_ms.
 */
const DEADLINE_CHECK_MAX_MS = 1000;
/** At most one log line per this many ms about connections dropped at the connection cap. */
const DROP_LOG_EVERY_MS = 10_000;
/** How long a refused connection may take to flush its 4xx before it is destroyed, ms. */
const CLIENT_ERROR_LINGER_MS = 1000;
/** Answers for requests Node's HTTP parser refused before our handler saw them (then the socket closes). */
const CLIENT_ERROR_STATUS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
};

/** Starts and reports async jobs (AsyncJobs provides it); absent, `async.` and `jobs.` calls answer a fault. */
export interface AsyncStarter extends JobsService {
  start(method: string, args: WireValue[], ctx: CallContext, idempotencyKey: string | null): Promise<string>;
}

export interface MinionServerOptions {
  config: MinionConfig;
  paths: HomePaths;
  tls: TlsMaterial;
  registry?: Registry;
  jobs?: AsyncStarter;
  /** called for problems that are not a caller's fault (audit write failures, ACL file errors) */
  log?: (message: string) => void;
}

/** Each connection's authenticated peer: its cert's CN (canonical: what ACLs match and audit shows) and role (OU). */
const PEERS = new WeakMap<TLSSocket, { cn: string; role: string | null; serial: string }>();

function peerOf(socket: TLSSocket): { cn: string; role: string | null; serial: string } {
  let peer = PEERS.get(socket);
  if (!peer) {
    const cert = socket.getPeerCertificate();
    peer = {
      cn: typeof cert.subject?.CN === "string" ? canonicalName(cert.subject.CN) : "?",
      role: typeof cert.subject?.OU === "string" ? cert.subject.OU : null,
      serial: typeof cert.serialNumber === "string" ? cert.serialNumber : "",
    };
    PEERS.set(socket, peer);
  }
  return peer;
}

export class MinionServer {
  readonly #opts: MinionServerOptions;
  readonly #server: Server;
  readonly #acl: Acl;
  readonly #audit: AuditLog;
  readonly #budget: ByteBudget;
  readonly #guard: ConnectionGuard;
  /** sockets with a request in our handler, and its response, until that response is done */
  readonly #active = new WeakMap<TLSSocket, ServerResponse>();
  readonly registry: Registry;
  #tls: TlsMaterial;
  readonly #crl: CrlGate;

  constructor(opts: MinionServerOptions) {
    this.#opts = opts;
    this.#tls = opts.tls;
    this.#crl = new CrlGate(opts.tls.crl, () => {
      opts.log?.(`CRL expired at ${this.#crl.nextUpdate?.toISOString()}: serving the overlord identity only until a fresh one is fetched`);
      this.#applyTls();
    });
    this.registry = opts.registry ?? new Registry(MODULES);
    this.#acl = new Acl(opts.config.aclDir);
    for (const e of this.#acl.errors) opts.log?.(`acl: ${e}`);
    this.#audit = new AuditLog(opts.config.auditLog, { maxBytes: opts.config.auditLogMaxBytes, keep: opts.config.auditLogKeep });
    if (this.#audit.error) opts.log?.(`audit: ${this.#audit.error}`);
    const c = opts.config;
    // one largest request must always fit, or the body limit would be a lie
    const inflight = Math.max(c.maxInflightBytes, c.maxBodyBytes);
    // the overlord keeps what no other identity may take, and may always send one largest request
    this.#budget = new ByteBudget(inflight, {
      perIdentity: c.maxInflightBytesPerIdentity,
      reserved: Math.min(inflight, Math.max(c.overlordReservedInflightBytes, c.maxBodyBytes)),
    });
    this.#guard = new ConnectionGuard({
      maxConnections: c.maxConnections,
      maxPerAddress: c.maxConnectionsPerAddress,
      reserved: c.overlordReservedConnections,
    });
    this.#server = createServer(
      {
        ...this.#tlsOptions(opts.tls),
        handshakeTimeout: c.handshakeTimeoutMs,
        sessionTimeout: TLS_SESSION_LIFETIME_S,
        headersTimeout: c.headersTimeoutMs,
        requestTimeout: c.requestTimeoutMs,
        keepAliveTimeout: c.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.max(50, Math.min(DEADLINE_CHECK_MAX_MS, Math.floor(c.headersTimeoutMs / 4))),
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.on("secureConnection", (socket: TLSSocket) => {
      // the peer's identity is read once per connection, not once per request; with renegotiation off it
      // cannot change under a kept-alive connection
      socket.disableRenegotiation();
      // an address that proved the overlord role keeps the reserved connections from now on
      if (peerOf(socket).role === OVERLORD_ROLE) this.#guard.markPrivileged(socket.remoteAddress);
    });
    // refused at TLS (no cert, another CA, expired, revoked): nothing reached the audit log, so say it in
    // funcd's log: the caller only sees its connection closed
    const refused = countedLog(opts.log, (n) => `${n} TLS handshake(s) refused, last from`);
    this.#server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      // eslint-disable-next-line no-control-regex -- a peer's certificate text may carry them: never into the log
      refused(() => `${socket.remoteAddress ?? "?"}: ${String(err.message).replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 200)}`);
    });
    this.#server.on("clientError", (err: NodeJS.ErrnoException, socket) => this.#clientError(err, socket as TLSSocket));
    // over max_connections (or max_connections_per_address) the socket is closed at accept, before TLS: no
    // peer to audit, so count and log
    const dropped = countedLog(opts.log, (n) => `${n} connection(s) closed at accept:`);
    this.#guard.attach(this.#server, (verdict, address) => {
      dropped(() => (verdict === "over-address-cap" ? `over max_connections_per_address (${c.maxConnectionsPerAddress}), last from ${address}` : `over max_connections (${c.maxConnections})`));
    });
  }

  /**
   * A connection that got past TLS but never made a request our handler could see: headers too slow
   * (slowloris) or never sent (idle), a body that stalls, malformed HTTP, headers too large. Audited, answered
   * when the socket can still take it, closed. A socket-level error (the peer reset or broke the TLS stream)
   * gets no HTTP answer: there is nobody to read it. A request our handler already holds (a body that
   * stalls) writes its own audit line, and gets the 4xx only while its response has not started.
   */
  #clientError(err: NodeJS.ErrnoException, socket: TLSSocket): void {
    const code = err.code ?? "ERR";
    const timeout = code === "ERR_HTTP_REQUEST_TIMEOUT";
    const httpError = timeout || code.startsWith("HPE_");
    const inFlight = this.#active.get(socket);
    if (httpError && !inFlight?.headersSent) {
      if (socket.authorized && !inFlight) {
        const peer = socket.getPeerCertificate();
        this.#audit.write({
          cn: typeof peer.subject?.CN === "string" ? canonicalName(peer.subject.CN) : "?",
          addr: socket.remoteAddress ?? "?",
          method: "-",
          outcome: timeout ? "timeout" : "bad-request",
          ms: 0,
          detail: code,
        });
      }
      if (socket.writable && !socket.writableEnded) {
        const status = CLIENT_ERROR_STATUS[code] ?? "400 Bad Request";
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
    }
    socket.destroySoon();
    // a peer that never reads must not keep the slot either
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  }

  #tlsOptions(tls: TlsMaterial) {
    return {
      key: tls.key,
      cert: tls.cert,
      ca: tls.ca,
      // a stale CRL would make OpenSSL refuse everyone, the overlord too: the gate checks callers instead
      ...(tls.crl && this.#crl.tlsCrl() ? { crl: tls.crl } : {}),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2" as const,
    };
  }

  /** Swaps in a new CRL (or cert) for new connections; sessions issued before can no longer be resumed. */
  updateTls(update: Partial<TlsMaterial>): void {
    this.#tls = { ...this.#tls, ...update };
    if (update.crl !== undefined) this.#crl.set(update.crl);
    this.#applyTls();
  }

  #applyTls(): void {
    this.#server.setSecureContext(this.#tlsOptions(this.#tls));
    // a resumed session skips the certificate checks, so a peer revoked by this CRL must not resume one
    this.#server.setTicketKeys(randomBytes(TICKET_KEYS_BYTES));
  }

  /**
   * funcd's SIGHUP: the ACL files read again, the audit log reopened, new TLS material (CRL, cert) for new
   * connections, and the limits of a re-read minion.conf applied, without closing a connection. Keys that
   * need a new socket or identity (listen address and port, name, ACL and audit paths, the in-flight byte budget) are returned, unchanged.
   */
  reload(tls: Partial<TlsMaterial>, fresh: MinionConfig): { aclErrors: string[]; needRestart: string[] } {
    const config = this.#opts.config;
    const fixed = ["minionName", "listenAddr", "listenPort", "aclDir", "auditLog", "maxInflightBytes"] as const;
    const needRestart = fixed.filter((k) => fresh[k] !== config[k]);
    const kept = Object.fromEntries(fixed.map((k) => [k, config[k]]));
    // modules and handlers read the config per call: the new limits apply to the next request
    Object.assign(config, fresh, kept);
    this.#server.maxConnections = config.maxConnections;
    this.#server.headersTimeout = config.headersTimeoutMs;
    this.#server.requestTimeout = config.requestTimeoutMs;
    this.#server.keepAliveTimeout = config.keepAliveTimeoutMs;
    this.updateTls(tls);
    this.#audit.reopen();
    if (this.#audit.error) this.#opts.log?.(`audit: ${this.#audit.error}`);
    return { aclErrors: this.#acl.reload(), needRestart: [...needRestart] };
  }

  listen(port = this.#opts.config.listenPort, host = this.#opts.config.listenAddr): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        const addr = this.#server.address();
        if (addr === null || typeof addr === "string") return reject(new Error("server has no address"));
        resolve({ address: addr.address, port: addr.port });
      });
    });
  }

  async close(): Promise<void> {
    this.#crl.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await this.#audit.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const socket = req.socket as TLSSocket;
    this.#active.set(socket, res);
    res.once("close", () => this.#active.delete(socket));
    const { cn, role, serial } = peerOf(socket);
    const addr = socket.remoteAddress ?? "?";
    // whom an overlord-role peer relays for, and the path it came by: trusted from that role only
    let relay: { caller?: string; via?: string } = {};
    let relayError: FuncError | null = null;
    if (role === OVERLORD_ROLE) {
      try {
        relay = readRelayHeaders(req.headers);
      } catch (err) {
        relayError = err as FuncError;
      }
    }
    const audit = (method: string, outcome: string, extra: { job?: string; detail?: string } = {}) =>
      this.#audit.write({ cn, addr, method, outcome, ms: Math.round((performance.now() - started) * 10) / 10, ...relay, ...extra });

    if (req.method !== "POST") {
      audit("-", "bad-request", { detail: `HTTP ${req.method}` });
      return httpError(res, 405, { Allow: "POST" });
    }
    if (!RPC_PATHS.has((req.url ?? "").split("?")[0]!)) {
      audit("-", "bad-request", { detail: "path" });
      return httpError(res, 404);
    }
    const limit = this.#opts.config.maxBodyBytes;
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > limit) {
      audit("-", "too-large", { detail: `content-length ${declared}` });
      return httpError(res, 413);
    }
    // who the caller is decides what it may spend: a cert the ACL grants nothing is refused before its body
    if (!this.#acl.allowsAny(cn, role)) {
      audit("-", "denied", { detail: "no ACL line for this identity" });
      res.setHeader("Connection", "close");
      replyXml(res, encodeFault(FAULT.ACCESS_DENIED, `AccessDenied: ${cn} may not call anything on this minion (no ACL line names it)`));
      return;
    }
    // the request's share of the in-flight budget (its identity's share), given back when its answer is done
    // or the peer is gone
    const holder = { id: cn, privileged: role === OVERLORD_ROLE };
    let held = 0;
    const take = (n: number): boolean => {
      if (!this.#budget.tryTake(n, holder)) return false;
      held += n;
      return true;
    };
    res.once("close", () => this.#budget.give(held, holder));
    const hasLength = Number.isFinite(declared);
    const busyDetail = holder.privileged
      ? `in-flight bytes over max_inflight_bytes (${this.#budget.limit})`
      : `in-flight bytes over this identity's share (max_inflight_bytes_per_identity ${this.#opts.config.maxInflightBytesPerIdentity})`;
    if (hasLength && !take(declared)) {
      audit("-", "busy", { detail: busyDetail });
      return httpError(res, 503, { "Retry-After": "1" });
    }
    const body = await readBody(req, limit, hasLength ? null : take);
    if (body === "too-large") {
      audit("-", "too-large", { detail: "body over limit" });
      return httpError(res, 413);
    }
    if (body === "busy") {
      audit("-", "busy", { detail: busyDetail });
      return httpError(res, 503, { "Retry-After": "1" });
    }
    if (body === "aborted") {
      audit("-", "aborted", { detail: "the peer went away while sending" });
      return;
    }

    let method = "-";
    try {
      const call = await decodeCall(body, {
        maxBodyBytes: limit,
        maxDepth: this.#opts.config.maxDepth,
        maxElements: this.#opts.config.maxElements,
      });
      method = call.method;
      if (relayError) throw relayError;
      const isAsync = method.startsWith(ASYNC_PREFIX);
      const name = isAsync ? method.slice(ASYNC_PREFIX.length) : method;
      const stale = this.#crl.refusal(role, serial);
      if (stale !== null) throw new FuncError("AccessDenied", `${cn} may not call ${name}: ${stale}`);
      let spec: MethodSpec | undefined;
      try {
        spec = this.registry.lookup(name);
      } catch {
        // unknown: the ACL still answers first, so a caller cannot probe which methods exist
      }
      // delegation.run is checked as the method it relays; async rights are their own: `test.*` does not grant
      // `async.test.*`
      const relayed = spec?.aclName ? spec.aclName(call.params) : name;
      const aclTarget = relayed === null ? null : isAsync ? `${ASYNC_PREFIX}${relayed}` : relayed;
      if (aclTarget !== null && !this.#acl.allows(cn, role, aclTarget)) {
        throw new FuncError("AccessDenied", `${cn} may not call ${aclTarget}`);
      }
      spec ??= this.registry.lookup(name);
      const args = this.registry.checkArgs(name, spec, call.params);
      const abort = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) abort.abort();
      });
      const ctx: CallContext = {
        peerCn: cn,
        peerRole: role,
        address: addr,
        config: this.#opts.config,
        paths: this.#opts.paths,
        registry: this.registry,
        signal: abort.signal,
        caller: relay.caller ?? cn,
        path: relay.via ? parsePath(relay.via) : [],
        ...(this.#opts.jobs ? { jobs: this.#opts.jobs } : {}),
      };
      let value: WireValue;
      if (isAsync) {
        if (!this.#opts.jobs || spec.signature.async_allowed === false) throw new FuncError("NoSuchMethod", `${name} cannot run as an async job here`);
        const key = req.headers[IDEMPOTENCY_HEADER];
        value = await this.#opts.jobs.start(name, call.params, ctx, typeof key === "string" ? key.slice(0, 128) : null);
        audit(method, "ok", { job: value });
      } else {
        value = await spec.run(ctx, ...args);
        audit(method, "ok");
      }
      const fields = req.headers[BYTES_ANSWER_HEADER] === BYTES_ANSWER_VALUE ? bytesAnswerFields(value) : null;
      if (fields !== null) replyBytes(res, (value as { data: Buffer }).data, fields);
      else replyXml(res, encodeResponseBytes(value));
    } catch (err) {
      const { code, text, outcome } = faultFor(err);
      audit(method, outcome, { detail: text.slice(0, 300) });
      if (!res.headersSent && !res.destroyed) replyXml(res, encodeFault(code, text));
    }
  }
}

/**
 * Counts events and logs at most one line per DROP_LOG_EVERY_MS: `head(n)` (how many since the last line),
 * then `detail()` of the latest, which is only made when a line is written.
 */
function countedLog(log: ((m: string) => void) | undefined, head: (n: number) => string): (detail: () => string) => void {
  let count = 0;
  let loggedAt = 0;
  return (detail) => {
    count++;
    const now = Date.now();
    if (now - loggedAt < DROP_LOG_EVERY_MS) return;
    log?.(`${head(count)} ${detail()}`);
    count = 0;
    loggedAt = now;
  };
}

/** A result's bytes as the answer's body, its other fields in one header (shared/bytes-answer.ts). */
function replyBytes(res: ServerResponse, data: Buffer, fields: string): void {
  res.writeHead(200, { "Content-Type": BYTES_CONTENT_TYPE, "Content-Length": data.length, [BYTES_FIELDS_HEADER]: fields });
  res.end(data);
}

/** Longest caller name taken from CALLER_HEADER. */
const MAX_CALLER_LENGTH = 253;
const CALLER_RE = /^[A-Za-z0-9_.@-]+$/;

/** The relay headers of an overlord-role peer, checked; a malformed one is a fault, never trusted in part. */
function readRelayHeaders(headers: IncomingMessage["headers"]): { caller?: string; via?: string } {
  const caller = headers[CALLER_HEADER];
  const path = headers[PATH_HEADER];
  const out: { caller?: string; via?: string } = {};
  if (caller !== undefined) {
    if (typeof caller !== "string" || caller.length > MAX_CALLER_LENGTH || !CALLER_RE.test(caller)) {
      throw new FuncError("BadArguments", `${CALLER_HEADER}: not an identity name`);
    }
    out.caller = caller;
  }
  if (path !== undefined) {
    const parts = parsePath(typeof path === "string" ? path : "\0");
    if (parts.length > 0) out.via = formatPath(parts);
  }
  return out;
}

/**
 * Reads the body, or says why not as soon as it knows: over `limit` bytes, or `reserve` (given for a body of
 * undeclared length) refused a chunk. The rest of a refused body is never buffered.
 */
function readBody(req: IncomingMessage, limit: number, reserve: ((n: number) => boolean) | null): Promise<Buffer | "too-large" | "busy" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const stop = (why: "too-large" | "busy" | "aborted") => {
      done = true;
      req.pause();
      chunks.length = 0;
      resolve(why);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) return stop("too-large");
      if (reserve && !reserve(chunk.length)) return stop("busy");
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", () => {
      if (!done) stop("aborted");
    });
    req.on("aborted", () => {
      if (!done) stop("aborted");
    });
  });
}
