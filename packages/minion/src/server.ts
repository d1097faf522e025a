// funcd's HTTPS endpoint: mutual TLS (the peer chain must reach the func CA, CRL enforced), then
// body limits -> decode -> ACL -> registry -> method -> encoded answer. Every failure is a fault or a 4xx,
// never a crash and never a hang; every call that got past TLS is audited.

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  ASYNC_METHOD_PREFIX,
  FAULT,
  FuncError,
  JOB_ID_HEADER,
  decodeCall,
  encodeFault,
  encodeResponse,
  type HomePaths,
  type MinionConfig,
  type WireValue,
} from "@func/shared";
import { Acl } from "./acl.js";
import { AuditLog } from "./audit.js";
import { MODULES } from "./modules/index.js";
import { Registry, type CallContext, type JobsService } from "./registry.js";

/** Prefix that turns a call into a background job on the minion. */
export const ASYNC_PREFIX = ASYNC_METHOD_PREFIX;
/** HTTP header carrying the overlord's job id: a repeat with the same key returns the existing minion job. */
export const IDEMPOTENCY_HEADER = JOB_ID_HEADER;
/** Paths a request may be posted to: `/` and Python's default `/RPC2`. */
const RPC_PATHS = new Set(["/", "/RPC2"]);
/** Time allowed for a TLS handshake before the socket is dropped, ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
  crl?: string;
}

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

export class MinionServer {
  readonly #opts: MinionServerOptions;
  readonly #server: Server;
  readonly #acl: Acl;
  readonly #audit: AuditLog;
  readonly registry: Registry;
  #tls: TlsMaterial;

  constructor(opts: MinionServerOptions) {
    this.#opts = opts;
    this.#tls = opts.tls;
    this.registry = opts.registry ?? new Registry(MODULES);
    this.#acl = new Acl(opts.config.aclDir);
    for (const e of this.#acl.errors) opts.log?.(`acl: ${e}`);
    this.#audit = new AuditLog(opts.config.auditLog);
    const c = opts.config;
    this.#server = createServer(
      {
        ...this.#tlsOptions(opts.tls),
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        headersTimeout: c.headersTimeoutMs,
        requestTimeout: c.requestTimeoutMs,
        keepAliveTimeout: c.keepAliveTimeoutMs,
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.maxConnections = c.maxConnections;
    this.#server.on("tlsClientError", () => {
      // refused at TLS (no cert, another CA, expired, revoked): nothing reached us to audit
    });
    this.#server.on("clientError", (_err, socket) => socket.destroy());
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

  /** Swaps in a new CRL (or cert) for new connections. */
  updateTls(update: Partial<TlsMaterial>): void {
    this.#tls = { ...this.#tls, ...update };
    this.#server.setSecureContext(this.#tlsOptions(this.#tls));
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
    const peer = socket.getPeerCertificate();
    const cn = typeof peer.subject?.CN === "string" ? peer.subject.CN : "?";
    const role = typeof peer.subject?.OU === "string" ? peer.subject.OU : null;
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
    const body = await readBody(req, limit);
    if (body === null) {
      audit("-", "too-large", { detail: "body over limit" });
      return httpError(res, 413);
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
      this.registry.checkArgs(name, spec, call.params);
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
        if (!this.#opts.jobs || spec.asyncAllowed === false) throw new FuncError("NoSuchMethod", `${name} cannot run as an async job here`);
        const key = req.headers[IDEMPOTENCY_HEADER];
        value = await this.#opts.jobs.start(name, call.params, ctx, typeof key === "string" ? key.slice(0, 128) : null);
        audit(method, "ok", { job: value as string });
      } else {
        value = await spec.run(ctx, ...call.params);
        audit(method, "ok");
      }
      reply(res, encodeResponse(value));
    } catch (err) {
      const { code, text, outcome } = faultFor(err);
      audit(method, outcome, { detail: text.slice(0, 300) });
      if (!res.headersSent && !res.destroyed) reply(res, encodeFault(code, text));
    }
  }
}

/**
 * The fault for a failed call: wire codes pass through, local error codes (100+) become "method raised".
 * The async runner uses it too, for REMOTE_ERROR results.
 */
export function faultFor(err: unknown): { code: number; text: string; outcome: string } {
  if (err instanceof FuncError) {
    const onWire = err.code < 100;
    return { code: onWire ? err.code : FAULT.METHOD_RAISED, text: err.faultString, outcome: err.code === FAULT.ACCESS_DENIED ? "denied" : "error" };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: FAULT.METHOD_RAISED, text: `${e.name === "Error" ? "MethodError" : e.name}: ${e.message}`, outcome: "error" };
}

function reply(res: ServerResponse, xml: string): void {
  const body = Buffer.from(xml, "utf8");
  res.writeHead(200, { "Content-Type": "text/xml; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

function httpError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  // the rest of an oversized or bad request is not read: close instead of keeping the connection
  res.writeHead(status, { ...headers, Connection: "close", "Content-Length": 0 });
  res.end();
  res.once("finish", () => res.socket?.destroy());
}

/** Reads the body, or null as soon as it passes `limit` bytes (the rest is never buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", () => {
      if (!done) {
        done = true;
        resolve(null);
      }
    });
  });
}
