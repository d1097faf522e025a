// Browser sessions of func-web: made at login (from a token or a client cert), held in memory only, sent as
// an HttpOnly, Secure, SameSite=Strict cookie; each carries a CSRF token the page sends in a header with
// every change. A session made from a token dies with the token.

import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Role } from "./roles.js";

export const SESSION_COOKIE = "func_session";
/** The header a cookie- or cert-authenticated change must carry, with the session's CSRF token. */
export const CSRF_HEADER = "x-csrf-token";
/** Sessions held at once; the least recently used goes first. */
const MAX_SESSIONS = 10_000;

export interface Session {
  identity: string;
  role: Role;
  via: "token" | "cert";
  /** the token's hash, so a revoked token ends its sessions */
  tokenHash?: string;
  csrf: string;
  lastUsed: number;
}

const random = (): string => randomBytes(32).toString("base64url");

export class SessionStore {
  readonly #idleMs: number;
  readonly #sessions = new Map<string, Session>();

  constructor(idleS: number) {
    this.#idleMs = idleS * 1000;
  }

  create(s: Omit<Session, "csrf" | "lastUsed">, now = Date.now()): { id: string; session: Session } {
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const id = random();
    const session: Session = { ...s, csrf: random(), lastUsed: now };
    this.#sessions.set(id, session);
    return { id, session };
  }

  /** The live session with this id (touched), or null. */
  get(id: string, now = Date.now()): Session | null {
    const s = this.#sessions.get(id);
    if (!s) return null;
    if (now - s.lastUsed > this.#idleMs) {
      this.#sessions.delete(id);
      return null;
    }
    s.lastUsed = now;
    // re-insert: the map's order is the eviction order
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== "string") return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAgeS}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}
