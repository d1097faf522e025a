// Login tokens for func-web (`func-web token create|list|revoke`): 32 random bytes shown once, stored only as
// their SHA-256 in the web directory's tokens.json, with a role and an expiry. The running service re-reads
// the file when it changes, so a revocation on the command line takes effect on the next request.

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { FuncError, KEY_FILE_MODE, STORE_FORMATS, readFormatFile, stampFormatFile, writeFileAtomic, type HomePaths } from "@func/shared";
import { webDir, webFormatFile } from "../config.js";
import { isRole, type Role } from "./roles.js";

/** Random bytes in a token. */
const TOKEN_BYTES = 32;
/** What every token starts with, so a leaked one is recognisable in logs and scanners. */
export const TOKEN_PREFIX = "fw_";
/** Token names: like minion names, plus `@`; shown in the audit log. */
const TOKEN_NAME_RE = /^[a-z0-9][a-z0-9._@-]{0,62}$/;

export interface TokenRecord {
  name: string;
  role: Role;
  /** sha256 of the token, hex */
  hash: string;
  /** ISO-8601 */
  created: string;
  expires: string;
  revoked: string | null;
}

/** A token as listed: never its hash. */
export type TokenInfo = Omit<TokenRecord, "hash"> & { state: "active" | "expired" | "revoked" };

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function checkTokenName(name: unknown): string {
  if (typeof name === "string" && TOKEN_NAME_RE.test(name.toLowerCase())) return name.toLowerCase();
  throw new FuncError("UsageError", `token name ${JSON.stringify(String(name).slice(0, 80))}: use letters, digits, ".", "_", "-", "@" (at most 63)`);
}

export class TokenStore {
  readonly #file: string;
  readonly #formatFile: string;
  #stamp = "";
  #records: TokenRecord[] = [];
  #byHash = new Map<string, TokenRecord>();

  constructor(paths: HomePaths) {
    this.#file = join(webDir(paths), "tokens.json");
    this.#formatFile = webFormatFile(paths);
  }

  #load(): TokenRecord[] {
    let stamp = "none";
    try {
      const st = statSync(this.#file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // no tokens yet
    }
    if (stamp === this.#stamp) return this.#records;
    let records: TokenRecord[] = [];
    if (stamp !== "none") {
      readFormatFile(STORE_FORMATS.web, this.#formatFile);
      try {
        const parsed = JSON.parse(readFileSync(this.#file, "utf8")) as unknown;
        if (!Array.isArray(parsed)) throw new Error("not a list");
        records = parsed.filter((r): r is TokenRecord => typeof r === "object" && r !== null && typeof (r as TokenRecord).hash === "string" && isRole((r as TokenRecord).role));
      } catch (err) {
        throw new FuncError("ConfigError", `${this.#file} is damaged (${(err as Error).message}): remove it and create the tokens again`);
      }
    }
    this.#records = records;
    this.#byHash = new Map(records.map((r) => [r.hash, r]));
    this.#stamp = stamp;
    return records;
  }

  #save(records: TokenRecord[]): void {
    stampFormatFile(STORE_FORMATS.web, this.#formatFile);
    writeFileAtomic(this.#file, JSON.stringify(records, null, 1) + "\n", KEY_FILE_MODE);
    this.#stamp = "";
  }

  /** Makes a token; returns it (the only time it is ever seen) with its record. */
  create(name: string, role: Role, ttlS: number, now = Date.now()): { token: string; record: TokenRecord } {
    const n = checkTokenName(name);
    if (!isRole(role)) throw new FuncError("UsageError", `--role must be viewer, operator or admin, not ${String(role)}`);
    if (!(ttlS > 0)) throw new FuncError("UsageError", "--ttl must be more than 0 (e.g. 8h, 7d)");
    const records = this.#load();
    if (records.some((r) => r.name === n && stateOf(r, now) === "active")) throw new FuncError("UsageError", `a token named ${n} is active: revoke it first ("func-web token revoke ${n}")`);
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString("base64url");
    const record: TokenRecord = {
      name: n,
      role,
      hash: hashToken(token),
      created: new Date(now).toISOString(),
      expires: new Date(now + ttlS * 1000).toISOString(),
      revoked: null,
    };
    this.#save([...records.filter((r) => stateOf(r, now) === "active" || Date.parse(r.expires) > now - 30 * 86400_000), record]);
    return { token, record };
  }

  /** The active token with this value, or null (unknown, expired or revoked). */
  verify(token: string, now = Date.now()): TokenRecord | null {
    if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    this.#load();
    const r = this.#byHash.get(hashToken(token));
    return r && stateOf(r, now) === "active" ? r : null;
  }

  /** Is the token with this hash still active (sessions made from it check this on every request)? */
  activeHash(hash: string, now = Date.now()): boolean {
    this.#load();
    const r = this.#byHash.get(hash);
    return r !== undefined && stateOf(r, now) === "active";
  }

  list(now = Date.now()): TokenInfo[] {
    return this.#load().map(({ hash: _hash, ...r }) => ({ ...r, state: stateOf({ ...r, hash: "" }, now) }));
  }

  /** Revokes the active token called `name`. */
  revoke(name: string, now = Date.now()): TokenInfo {
    const n = checkTokenName(name);
    const records = this.#load().map((r) => ({ ...r }));
    const r = records.find((x) => x.name === n && stateOf(x, now) === "active");
    if (!r) throw new FuncError("NotFound", `no active token named ${n} (see "func-web token list")`);
    r.revoked = new Date(now).toISOString();
    this.#save(records);
    const { hash: _hash, ...info } = r;
    return { ...info, state: "revoked" };
  }
}

function stateOf(r: TokenRecord, now: number): TokenInfo["state"] {
  if (r.revoked) return "revoked";
  return Date.parse(r.expires) > now ? "active" : "expired";
}
