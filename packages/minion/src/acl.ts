// Minion ACLs in Func's format: `acl.d/*.acl`, lines `<cert CN glob> = <method glob>, <method glob> ...`,
// `#` comments, default deny. The overlord role is allowed everything. Files are re-read when they change.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { globToRegExp } from "@func/shared";

/** Role whose certs are allowed every method (issued by func-ca to the overlord). */
export const OVERLORD_ROLE = "overlord";
/** How often the ACL directory is checked for changes, ms: a check is a few stat calls. */
const RELOAD_CHECK_MS = 1000;

export interface AclEntry {
  cn: RegExp;
  methods: RegExp[];
  source: string;
}

export function parseAcl(text: string, source: string): { entries: AclEntry[]; errors: string[] } {
  const entries: AclEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const eq = line.indexOf("=");
    const cn = eq > 0 ? line.slice(0, eq).trim() : "";
    const methods = eq > 0 ? line.slice(eq + 1).split(/[\s,]+/).filter(Boolean) : [];
    if (cn === "" || methods.length === 0) {
      errors.push(`${source}:${i + 1}: expected "<cn glob> = <method glob>, ...", got "${raw.trim().slice(0, 200)}"`);
      return;
    }
    entries.push({ cn: globToRegExp(cn), methods: methods.map((m) => globToRegExp(m)), source: `${source}:${i + 1}` });
  });
  return { entries, errors };
}

export class Acl {
  readonly #dir: string;
  #entries: AclEntry[] = [];
  #stamp = "";
  #checkedAt = 0;
  /** problems found in the ACL files at the last load (bad lines are skipped: they grant nothing) */
  errors: string[] = [];

  constructor(dir: string) {
    this.#dir = dir;
    this.#reloadIfChanged(true);
  }

  #files(): string[] {
    try {
      return readdirSync(this.#dir)
        .filter((f) => f.endsWith(".acl"))
        .sort()
        .map((f) => join(this.#dir, f));
    } catch {
      return [];
    }
  }

  #reloadIfChanged(force = false): void {
    const now = Date.now();
    if (!force && now - this.#checkedAt < RELOAD_CHECK_MS) return;
    this.#checkedAt = now;
    const files = this.#files();
    const stamp = files
      .map((f) => {
        try {
          const st = statSync(f);
          return `${f}:${st.mtimeMs}:${st.size}`;
        } catch {
          return `${f}:gone`;
        }
      })
      .join("|");
    if (!force && stamp === this.#stamp) return;
    const entries: AclEntry[] = [];
    const errors: string[] = [];
    for (const f of files) {
      try {
        const parsed = parseAcl(readFileSync(f, "utf8"), f);
        entries.push(...parsed.entries);
        errors.push(...parsed.errors);
      } catch (err) {
        errors.push(`${f}: ${(err as Error).message}`);
      }
    }
    this.#entries = entries;
    this.errors = errors;
    this.#stamp = stamp;
  }

  /** Reads the ACL files again now (funcd's SIGHUP); returns the problems found. */
  reload(): string[] {
    this.#reloadIfChanged(true);
    return this.errors;
  }

  /** May the holder of a cert with this CN and role call `method` (with `async.` already stripped)? */
  allows(cn: string, role: string | null, method: string): boolean {
    if (role === OVERLORD_ROLE) return true;
    this.#reloadIfChanged();
    return this.#entries.some((e) => e.cn.test(cn) && e.methods.some((m) => m.test(method)));
  }
}
