// TLS sessions kept between runs of `func`: each minion's latest session ticket, saved in the overlord's state
// dir so that the next process resumes instead of doing a full mutual-TLS handshake (about half the CPU of a
// cold call). A cache: a missing, stale, foreign or damaged file only means full handshakes.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TLS_SESSION_LIFETIME_S } from "@func/shared";

/** Most sessions kept: a ticket is ~1-2 KB, so a 20,000-minion fleet is a ~40 MB file at worst. */
export const MAX_TLS_SESSIONS = 20_000;
/** File format tag and version: "fTLS" + 1. */
const MAGIC = 0x66544c53;
const VERSION = 1;

/** Where a session may be used: the minion's name and the address we dial it on. */
export function sessionKey(minion: { name: string; host: string; port: number }): string {
  return `${minion.name}@${minion.host}:${minion.port}`;
}

interface Entry {
  session: Buffer;
  /** when the session was received, ms since the epoch */
  at: number;
}

/** Sessions by key, as the transport uses them. */
export interface SessionCache {
  get(key: string): Buffer | undefined;
  set(key: string, session: Buffer): void;
}

/**
 * The store: loaded once, read and updated in memory, written back (merged with whatever another process
 * wrote meanwhile) by `save()`. Bound to the overlord's identity and CRL: sessions made with another cert,
 * another CA or before a revocation are never offered (a resumed session skips the certificate checks). The
 * file holds resumption secrets, so it is as private as overlord.key.
 */
export class TlsSessionStore implements SessionCache {
  readonly #file: string;
  readonly #owner: Buffer;
  readonly #lifetimeMs: number;
  readonly #maxSessions: number;
  readonly #entries: Map<string, Entry>;
  readonly #fresh = new Map<string, Entry>();

  /** `identity` is the overlord's cert, CA and CRL (PEM): the sessions belong to them. */
  constructor(file: string, identity: { cert: string; ca: string; crl?: string }, opts: { lifetimeS?: number; maxSessions?: number; now?: number } = {}) {
    this.#file = file;
    // the PEMs themselves, not a hash of them: loading a digest costs a cold process more than comparing 2 KB
    this.#owner = Buffer.from(`${identity.cert}\0${identity.ca}\0${identity.crl ?? ""}`, "utf8");
    this.#lifetimeMs = (opts.lifetimeS ?? TLS_SESSION_LIFETIME_S) * 1000;
    this.#maxSessions = opts.maxSessions ?? MAX_TLS_SESSIONS;
    this.#entries = this.#read(opts.now ?? Date.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Buffer | undefined {
    const e = this.#entries.get(key);
    return e && Date.now() - e.at < this.#lifetimeMs ? e.session : undefined;
  }

  set(key: string, session: Buffer): void {
    const e = { session, at: Date.now() };
    this.#entries.set(key, e);
    this.#fresh.set(key, e);
  }

  /** Writes the sessions received since loading, merged into the file's current content; a no-op if none. */
  save(): void {
    if (this.#fresh.size === 0) return;
    const now = Date.now();
    const merged = this.#read(now);
    for (const [k, e] of this.#fresh) {
      const old = merged.get(k);
      if (!old || old.at <= e.at) merged.set(k, e);
    }
    // newest first; at equal times (one millisecond), this process's own before what the file had
    const fresh = (k: string) => (this.#fresh.has(k) ? 1 : 0);
    const kept = [...merged].sort((a, b) => b[1].at - a[1].at || fresh(b[0]) - fresh(a[0])).slice(0, this.#maxSessions);
    const parts: Buffer[] = [];
    const head = Buffer.alloc(12);
    head.writeUInt32BE(MAGIC, 0);
    head.writeUInt32BE(VERSION, 4);
    head.writeUInt32BE(kept.length, 8);
    const owner = Buffer.alloc(4);
    owner.writeUInt32BE(this.#owner.length, 0);
    parts.push(head, owner, this.#owner);
    for (const [k, e] of kept) {
      const key = Buffer.from(k, "utf8");
      const rec = Buffer.alloc(2 + 8 + 4);
      rec.writeUInt16BE(key.length, 0);
      rec.writeDoubleBE(e.at, 2);
      rec.writeUInt32BE(e.session.length, 10);
      parts.push(rec.subarray(0, 2), key, rec.subarray(2), e.session);
    }
    const tmp = `${this.#file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, Buffer.concat(parts), { mode: 0o600 });
      renameSync(tmp, this.#file);
    } catch {
      // a read-only or full state dir costs the next run its resumptions, nothing else
      rmSync(tmp, { force: true });
    }
    this.#fresh.clear();
  }

  /** The file's live entries; empty when it is missing, damaged, foreign or of another version. */
  #read(now: number): Map<string, Entry> {
    const out = new Map<string, Entry>();
    let buf: Buffer;
    try {
      buf = readFileSync(this.#file);
    } catch {
      return out;
    }
    if (buf.length < 16 || buf.readUInt32BE(0) !== MAGIC || buf.readUInt32BE(4) !== VERSION) return out;
    const ownerLen = buf.readUInt32BE(12);
    if (ownerLen !== this.#owner.length || !buf.subarray(16, 16 + ownerLen).equals(this.#owner)) return out;
    const count = buf.readUInt32BE(8);
    let at = 16 + ownerLen;
    for (let i = 0; i < count; i++) {
      if (at + 2 > buf.length) return new Map();
      const keyLen = buf.readUInt16BE(at);
      if (at + 2 + keyLen + 12 > buf.length) return new Map();
      const key = buf.toString("utf8", at + 2, at + 2 + keyLen);
      at += 2 + keyLen;
      const when = buf.readDoubleBE(at);
      const len = buf.readUInt32BE(at + 8);
      at += 12;
      if (at + len > buf.length) return new Map();
      if (now - when < this.#lifetimeMs && when <= now + 60_000) out.set(key, { session: buf.subarray(at, at + len), at: when });
      at += len;
    }
    return out;
  }
}
