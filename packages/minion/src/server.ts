// funcd's HTTPS endpoint: mutual TLS (the peer chain must reach the func CA, CRL enforced), then
// body limits -> decode -> ACL -> registry -> method -> encoded answer. Every failure is a fault or a 4xx,
// never a crash and never a hang; every call that got past TLS is audited.

import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  ASYNC_METHOD_PREFIX,
  FuncError,
  TLS_SESSION_LIFETIME_S,
  JOB_ID_HEADER,
  decodeCall,
  encodeFault,
  encodeResponse,
  type HomePaths,
  type MinionConfig,
  type TlsMaterial,
  type WireValue,
  RPC_PATHS,
  httpError,
  replyXml,
} from "@func/shared";
import { Acl } from "./acl.js";
import { AuditLog } from "./audit.js";
import { ByteBudget } from "./byte-budget.js";
import { MODULES } from "./modules/index.js";
import { Registry, faultFor, type CallContext, type JobsService } from "./registry.js";

/** Prefix that turns a call into a background job on the minion. */
export const ASYNC_PREFIX = ASYNC_METHOD_PREFIX;
/** HTTP header carrying the overlord's job id: a repeat with the same key returns the existing minion job. */
export const IDEMPOTENCY_HEADER = JOB_ID_HEADER;
/** Size of Node's TLS session ticket keys (name, HMAC and AES keys). */
const TICKET_KEYS_BYTES = 48;
/** Time allowed for a TLS handshake before the socket is dropped, ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
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

/** Each connection's authenticated peer: its cert's CN and role (OU). */
const PEERS = new WeakMap<TLSSocket, { cn: string; role: string | null }>();

function peerOf(socket: TLSSocket): { cn: string; role: string | null } {
  let peer = PEERS.get(socket);
  if (!peer) {
    const cert = socket.getPeerCertificate();
    peer = { cn: typeof cert.subject?.CN === "string" ? cert.subject.CN : "?", role: typeof cert.subject?.OU === "string" ? cert.subject.OU : null };
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
  /** sockets with a request in our handler, and its response, until that response is done */
  readonly #active = new WeakMap<TLSSocket, ServerResponse>();
  readonly registry: Registry;
  #tls: TlsMaterial;

  constructor(opts: MinionServerOptions) {
    this.#opts = opts;
    this.#tls = opts.tls;
    this.registry = opts.registry ?? new Registry(MODULES);
    this.#acl = new Acl(opts.config.aclDir);
    for (const e of this.#acl.errors) opts.log?.(`acl: ${e}`);
    this.#audit = new AuditLog(opts.config.auditLog, { maxBytes: opts.config.auditLogMaxBytes, keep: opts.config.auditLogKeep });
    if (this.#audit.error) opts.log?.(`audit: ${this.#audit.error}`);
    const c = opts.config;
    // one largest request must always fit, or the body limit would be a lie
    this.#budget = new ByteBudget(Math.max(c.maxInflightBytes, c.maxBodyBytes));
    this.#server = createServer(
      {
        ...this.#tlsOptions(opts.tls),
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        sessionTimeout: TLS_SESSION_LIFETIME_S,
        headersTimeout: c.headersTimeoutMs,
        requestTimeout: c.requestTimeoutMs,
        keepAliveTimeout: c.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.max(50, Math.min(DEADLINE_CHECK_MAX_MS, Math.floor(c.headersTimeoutMs / 4))),
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.maxConnections = c.maxConnections;
    this.#server.on("secureConnection", (socket: TLSSocket) => {
      // the peer's identity is read once per connection, not once per request; with renegotiation off it
      // cannot change under a kept-alive connection
      socket.disableRenegotiation();
      peerOf(socket);
    });
    this.#server.on("tlsClientError", () => {
      // refused at TLS (no cert, another CA, expired, revoked): nothing reached us to audit
    });
    this.#server.on("clientError", (err: NodeJS.ErrnoException, socket) => this.#clientError(err, socket as TLSSocket));
    // over max_connections Node closes the socket at accept, before TLS: no peer to audit, so count and log
    let dropped = 0;
    let droppedLogAt = 0;
    this.#server.on("drop", () => {
      dropped++;
      const now = Date.now();
      if (now - droppedLogAt >= DROP_LOG_EVERY_MS) {
        opts.log?.(`${dropped} connection(s) closed at accept: over max_connections (${c.maxConnections})`);
        dropped = 0;
        droppedLogAt = now;
      }
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
          cn: typeof peer.subject?.CN === "string" ? peer.subject.CN : "?",
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
      ...(tls.crl ? { crl: tls.crl } : {}),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2" as const,
    };
  }

  /** Swaps in a new CRL (or cert) for new connections; sessions issued before can no longer be resumed. */
  updateTls(update: Partial<TlsMaterial>): void {
    this.#tls = { ...this.#tls, ...update };
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
    const { cn, role } = peerOf(socket);
    const addr = socket.remoteAddress ?? "?";
    const audit = (method: string, outcome: string, extra: { job?: string; detail?: string } = {}) =>
      this.#audit.write({ cn, addr, method, outcome, ms: Math.round((performance.now() - started) * 10) / 10, ...extra });

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
    // the request's share of the in-flight budget, given back when its answer is done or the peer is gone
    let held = 0;
    const take = (n: number): boolean => {
      if (!this.#budget.tryTake(n)) return false;
      held += n;
      return true;
    };
    res.once("close", () => this.#budget.give(held));
    const hasLength = Number.isFinite(declared);
    if (hasLength && !take(declared)) {
      audit("-", "busy", { detail: `in-flight bytes over max_inflight_bytes (${this.#budget.limit})` });
      return httpError(res, 503, { "Retry-After": "1" });
    }
    const body = await readBody(req, limit, hasLength ? null : take);
    if (body === "too-large") {
      audit("-", "too-large", { detail: "body over limit" });
      return httpError(res, 413);
    }
    if (body === "busy") {
      audit("-", "busy", { detail: `in-flight bytes over max_inflight_bytes (${this.#budget.limit})` });
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
      const isAsync = method.startsWith(ASYNC_PREFIX);
      const name = isAsync ? method.slice(ASYNC_PREFIX.length) : method;
      if (!this.#acl.allows(cn, role, name)) {
        throw new FuncError("AccessDenied", `${cn} may not call ${name}`);
      }
      const spec = this.registry.lookup(name);
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
      replyXml(res, encodeResponse(value));
    } catch (err) {
      const { code, text, outcome } = faultFor(err);
      audit(method, outcome, { detail: text.slice(0, 300) });
      if (!res.headersSent && !res.destroyed) replyXml(res, encodeFault(code, text));
    }
  }
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
