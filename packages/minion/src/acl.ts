// Minion ACLs in Func's format: `acl.d/*.acl`, lines `<cert CN glob> = <method glob>, <method glob> ...`,
// `#` comments, default deny; async calls are granted by their own lines (`async.test.*`). The overlord role
// is allowed everything. A line grants `user` identities; `minion:<glob>` or `service:<glob>` grants certs
// of that role instead, so a rule written for operators never lets another minion in. Files are re-read when
// they change. CNs are matched in their canonical form (lower case), case-insensitively, like every name.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { canonicalName, globToRegExp } from "@func/shared/core";

/** Role whose certs are allowed every method (issued by func-ca to the overlord). */
export const OVERLORD_ROLE = "overlord";
/** How often the ACL directory is checked for changes, ms: a check is a few stat calls. */
const RELOAD_CHECK_MS = 1000;

/** The role a line grants when it names none, and the roles a line may name (`minion:web*`). */
const DEFAULT_ROLE = "user";
const LINE_ROLES: ReadonlySet<string> = new Set(["user", "minion", "service"]);

export interface AclEntry {
  /** the cert role the line grants: `user` unless the line says `minion:` or `service:` */
  role: string;
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
    const who = eq > 0 ? line.slice(0, eq).trim() : "";
    const methods = eq > 0 ? line.slice(eq + 1).split(/[\s,]+/).filter(Boolean) : [];
    const colon = who.indexOf(":");
    const role = colon === -1 ? DEFAULT_ROLE : who.slice(0, colon).trim().toLowerCase();
    const cn = colon === -1 ? who : who.slice(colon + 1).trim();
    if (cn === "" || methods.length === 0) {
      errors.push(`${source}:${i + 1}: expected "<cn glob> = <method glob>, ...", got "${raw.trim().slice(0, 200)}"`);
      return;
    }
    if (!LINE_ROLES.has(role)) {
      errors.push(`${source}:${i + 1}: "${role.slice(0, 40)}:" is not a role a line can grant (user, minion, service; the overlord role has everything)`);
      return;
    }
    try {
      entries.push({ role, cn: globToRegExp(cn), methods: methods.map((m) => globToRegExp(m)), source: `${source}:${i + 1}` });
    } catch (err) {
      errors.push(`${source}:${i + 1}: ${(err as Error).message}`);
    }
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

  /**
   * May the holder of a cert with this CN and role call `method`? The method as it came on the wire: an
   * `async.` call needs a line that grants it as such (`async.test.*`), `test.*` grants only the sync calls.
   */
  allows(cn: string, role: string | null, method: string): boolean {
    if (role === OVERLORD_ROLE) return true;
    this.#reloadIfChanged();
    const name = canonicalName(cn);
    return this.#entries.some((e) => e.role === role && e.cn.test(name) && e.methods.some((m) => m.test(method)));
  }

  /** May this CN and role call anything at all? A caller with no line is refused before its body is read. */
  allowsAny(cn: string, role: string | null): boolean {
    if (role === OVERLORD_ROLE) return true;
    this.#reloadIfChanged();
    const name = canonicalName(cn);
    return this.#entries.some((e) => e.role === role && e.cn.test(name));
  }
}
