// Who is asking: a bearer token, a session cookie, or a func-CA client cert (role `user`, its CN mapped to a
// web role in [web_roles]). Changes made by cookie or cert must carry the CSRF token in a header: a bearer
// token is never sent by a browser on its own, the others are.

import { createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { canonicalSerial, globMatch } from "@func/shared";
import type { WebConfig } from "../config.js";
import { HttpError } from "../server/http.js";
import type { Role } from "./roles.js";
import { CSRF_HEADER, SESSION_COOKIE, cookieValue, sameToken, type SessionStore } from "./sessions.js";
import type { TokenStore } from "./tokens.js";

export interface Principal {
  identity: string;
  role: Role;
  via: "token" | "session" | "cert";
  /** the CSRF token changes must carry; null for bearer tokens (no ambient credential) */
  csrf: string | null;
  sessionId?: string;
  /** what a cert-based login turns into a session */
  origin?: { via: "token" | "cert"; tokenHash?: string };
}

/** A client cert as the TLS layer saw it: null when none was sent. */
export interface PeerCert {
  authorized: boolean;
  error: string | null;
  cn: string;
  role: string | null;
  fingerprint: string;
  /** canonical serial (lower-case hex) */
  serial: string;
}

function serialOf(hex: string | undefined): string {
  try {
    return canonicalSerial(hex ?? "");
  } catch {
    return "";
  }
}

export function peerCert(req: IncomingMessage): PeerCert | null {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== "function") return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !cert.subject) return null;
  const ou = cert.subject.OU;
  const cn = cert.subject.CN;
  return {
    authorized: socket.authorized,
    error: socket.authorizationError ? String(socket.authorizationError) : null,
    cn: (Array.isArray(cn) ? cn[0] : cn) ?? "",
    role: (Array.isArray(ou) ? ou[0] : ou) ?? null,
    fingerprint: cert.fingerprint256 ?? "",
    serial: serialOf(cert.serialNumber),
  };
}

export class Authenticator {
  readonly #tokens: TokenStore;
  readonly #sessions: SessionStore;
  readonly #config: WebConfig;
  readonly #revoked: (serial: string) => boolean;
  /** keys the CSRF token of cert users (they have no session to hold one) */
  readonly #secret = randomBytes(32);

  /** `revoked(serial)`: is the serial in the current CRL (a kept-alive connection outlives a CRL change)? */
  constructor(tokens: TokenStore, sessions: SessionStore, config: WebConfig, revoked: (serial: string) => boolean = () => false) {
    this.#revoked = revoked;
    this.#tokens = tokens;
    this.#sessions = sessions;
    this.#config = config;
  }

  /** The caller, or a 401/403 saying how to log in. */
  identify(req: IncomingMessage): Principal {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) throw new HttpError(401, "Unauthorized", 'the Authorization header must be "Bearer <token>"', { "www-authenticate": "Bearer" });
      const rec = this.#tokens.verify(m[1]!);
      if (!rec) throw new HttpError(401, "Unauthorized", 'the token is unknown, expired or revoked: make a new one with "func-web token create"', { "www-authenticate": "Bearer" });
      return { identity: rec.name, role: rec.role, via: "token", csrf: null, origin: { via: "token", tokenHash: rec.hash } };
    }
    const sid = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (sid !== undefined) {
      const s = this.#sessions.get(sid);
      if (s && (s.via !== "token" || (s.tokenHash !== undefined && this.#tokens.activeHash(s.tokenHash)))) {
        return { identity: s.identity, role: s.role, via: "session", csrf: s.csrf, sessionId: sid };
      }
      if (s) this.#sessions.delete(sid);
    }
    const byCert = this.fromCert(req);
    if (byCert) return byCert;
    if (sid !== undefined) throw new HttpError(401, "Unauthorized", "the session has ended: log in again");
    throw new HttpError(401, "Unauthorized", "log in: send Authorization: Bearer <token>, a func-CA client certificate, or POST /api/login", { "www-authenticate": "Bearer" });
  }

  /** The caller by its client cert alone: null without one; 401/403 for a refused or unmapped cert. */
  fromCert(req: IncomingMessage): Principal | null {
    const cert = peerCert(req);
    if (!cert) return null;
    if (!cert.authorized) throw new HttpError(401, "Unauthorized", `the client certificate was refused (${cert.error ?? "not from the func CA"})`);
    if (this.#revoked(cert.serial)) throw new HttpError(401, "Unauthorized", "the client certificate was refused (CERT_REVOKED)");
    if (cert.role !== "user") throw new HttpError(403, "Forbidden", `a client certificate needs the user role (func-ca issue NAME --role user); this one has ${cert.role ?? "none"}`);
    const role = this.#config.certRoles.find((r) => globMatch(r.cn, cert.cn))?.role;
    if (!role) throw new HttpError(403, "Forbidden", `${cert.cn} has no role here: map it in [web_roles] of overlord.conf`);
    const csrf = createHmac("sha256", this.#secret).update(`cert:${cert.fingerprint}`).digest("base64url");
    return { identity: cert.cn, role, via: "cert", csrf, origin: { via: "cert" } };
  }

  /** Throws 403 unless a change by `p` carries its CSRF token. */
  checkCsrf(req: IncomingMessage, p: Principal): void {
    if (p.csrf === null) return;
    const sent = req.headers[CSRF_HEADER];
    if (!sameToken(Array.isArray(sent) ? sent[0] : sent, p.csrf)) {
      throw new HttpError(403, "CsrfRejected", `changes need the ${CSRF_HEADER} header with the token from GET /api/session`);
    }
  }
}
