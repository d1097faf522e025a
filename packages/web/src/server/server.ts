// func-web's HTTPS service: the func-CA `service` cert, client certs asked for (not required: token users
// have none) and checked against the CA and CRL, one long-lived Overlord for every call (warm connections),
// the JSON API under /api/ and the page's files. Bounded headers, bodies and request times.

import { existsSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { FuncError, crlSerials, type HomePaths } from "@func/shared";
import { Overlord, listMinionNames } from "@func/overlord";
import { Authenticator } from "../auth/authenticate.js";
import { RateLimiter } from "../auth/rate-limit.js";
import { SessionStore } from "../auth/sessions.js";
import { TokenStore } from "../auth/tokens.js";
import type { WebConfig } from "../config.js";
import { handleApi, type ApiContext } from "./api.js";
import { loadAssets } from "./assets.js";
import { AuditLog } from "./audit.js";
import { SECURITY_HEADERS, errorReply, sendJson } from "./http.js";
import { ModuleTableSource } from "./modules.js";
import { FactSource } from "./facts.js";
import { Runs } from "./runs.js";
import { ensureWebCert } from "./web-cert.js";

/** TLS handshake, request headers and whole-request (not response: event streams stay open) limits, ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** An idle kept-alive connection is closed after this, ms. */
const KEEPALIVE_TIMEOUT_MS = 30_000;
/** Connections open at once. */
const MAX_CONNECTIONS = 1024;
/** Bytes of request headers. */
const MAX_HEADER_BYTES = 16 * 1024;
/** How often the CRL file is checked for changes (a revoked client cert is refused from then on), ms. */
const CRL_CHECK_MS = 2000;

function crlStamp(file: string): string {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : "none";
}

export interface WebServerOptions {
  /** overrides of overlord.conf's web settings (the command line's --listen / --port) */
  listenAddr?: string;
  port?: number;
  /** one line per problem */
  log?: (message: string) => void;
  /** ping every signed minion at start, for the fleet's states (default true) */
  probe?: boolean;
}

export interface WebServer {
  address: string;
  port: number;
  url: string;
  /** the CA cert clients should trust */
  caCert: string;
  certIssued: boolean;
  close(): Promise<void>;
}

export async function startWebServer(paths: HomePaths, config: WebConfig, opts: WebServerOptions = {}): Promise<WebServer> {
  const log = opts.log ?? (() => {});
  const listenAddr = opts.listenAddr ?? config.listenAddr;
  const port = opts.port ?? config.port;
  const tls = await ensureWebCert(paths, listenAddr);
  const overlord = new Overlord("*", { home: paths });
  overlord.identity();
  const engine = await overlord.jobEngine();
  const runs = new Runs({ overlord, engine, paths, keptRuns: config.keptRuns, log });
  const abandoned = await runs.recoverAbandoned();
  if (abandoned > 0) log(`recorded ${abandoned} host(s) of calls left open by an earlier func-web as lost`);
  const tokens = new TokenStore(paths);
  const sessions = new SessionStore(config.sessionIdleS);
  let revoked = new Set<string>();
  const readCrl = (): string | undefined => {
    const crl = existsSync(paths.crl) ? readFileSync(paths.crl, "utf8") : undefined;
    revoked = new Set(crl ? crlSerials(crl) : []);
    return crl;
  };
  const ctx: ApiContext = {
    paths,
    config,
    overlord,
    engine,
    runs,
    tokens,
    sessions,
    auth: new Authenticator(tokens, sessions, config, (serial) => revoked.has(serial)),
    loginLimiter: new RateLimiter(config.loginBurst, config.loginRefillS),
    audit: new AuditLog(paths, log),
    modules: new ModuleTableSource(overlord),
    facts: new FactSource(overlord),
  };
  const assets = loadAssets();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "https://func-web");
    } catch {
      return sendJson(res, 400, { error: { type: "BadRequest", message: "bad request URL" } });
    }
    try {
      if (url.pathname.startsWith("/api/")) return await handleApi(ctx, req, res, url);
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: { type: "MethodNotAllowed", message: "the page's files are read with GET" } }, { allow: "GET, HEAD" });
      const asset = assets.get(url.pathname);
      if (!asset) return sendJson(res, 404, { error: { type: "NotFound", message: `no file ${url.pathname.slice(0, 100)}` } });
      res.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.type, "content-length": asset.body.length, "cache-control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : asset.body);
    } catch (err) {
      const e = errorReply(err);
      if (e.internal) log(`internal error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) return void res.end();
      sendJson(res, e.status, { error: { type: e.type, message: e.message } }, e.headers);
    }
  };

  const secure = () => {
    const crl = readCrl();
    return { key: tls.key, cert: tls.cert, ca: tls.ca, ...(crl ? { crl } : {}) };
  };
  let stamp = crlStamp(paths.crl);
  const server = createServer(
    {
      ...secure(),
      // asked for, not required: token users have no cert; an unauthorized one is refused per request
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEPALIVE_TIMEOUT_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    (req, res) => void handle(req, res),
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on("tlsClientError", () => {
    // a browser that does not trust the CA yet drops its handshake here
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  const crlTimer = setInterval(() => {
    const now = crlStamp(paths.crl);
    if (now === stamp) return;
    stamp = now;
    try {
      server.setSecureContext(secure());
    } catch (err) {
      log(`cannot load the new CRL ${paths.crl}: ${(err as Error).message}`);
    }
  }, CRL_CHECK_MS);
  crlTimer.unref();

  const bound = await new Promise<{ address: string; port: number }>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, listenAddr, () => {
      server.off("error", reject);
      const a = server.address();
      if (a === null || typeof a === "string") return reject(new Error("func-web has no address"));
      resolve({ address: a.address, port: a.port });
    });
  }).catch(async (err: unknown) => {
    clearInterval(crlTimer);
    await overlord.close();
    const e = err as NodeJS.ErrnoException;
    throw new FuncError("ConfigError", `cannot listen on ${listenAddr}:${port}: ${e.code ?? e.message}`, { cause: err });
  });

  if (opts.probe !== false) {
    const names = listMinionNames(paths);
    if (names.length > 0) void runs.probe(names);
  }
  const host = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return {
    ...bound,
    url: `https://${host}:${bound.port}/`,
    caCert: tls.ca,
    certIssued: tls.issued,
    close: async () => {
      clearInterval(crlTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runs.close();
      await overlord.close();
    },
  };
}
