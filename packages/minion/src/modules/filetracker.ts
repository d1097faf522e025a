// The `filetracker` module (Func's): a list of absolute globs kept in the minion's state directory; inventory()
// snapshots every matching file's metadata and sha256 (and keeps it), diff() says what changed since. The state
// directory records its format version (filetracker/format.json): one from a newer func is refused, untouched.

import { createHash } from "node:crypto";
import { createReadStream, readdirSync, readFileSync, lstatSync, type Stats } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { FILETRACKER, FuncError, STORE_FORMATS, globToRegExp, isGlob, readFormatFile, stampFormatFile, writeFileAtomic } from "@func/shared/core";
import { implement, type CallContext } from "../registry.js";

/** Most files one inventory covers: a glob such as /usr/** must not take the minion's time and memory. */
const MAX_FILES = 10_000;
/** Most tracked globs. */
const MAX_GLOBS = 1000;

interface FileEntry {
  [key: string]: string | number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  mtime: number;
  sha256: string;
}
type Snapshot = Record<string, FileEntry>;

function stateFile(ctx: CallContext, name: string): string {
  return join(ctx.paths.stateDir, "filetracker", name);
}

/** A state file's contents (`fallback` when it is missing or damaged), from a directory in a format this func reads. */
function readJson<T>(file: string, fallback: T): T {
  readFormatFile(STORE_FORMATS.filetracker, join(file, "..", "format.json"));
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return fallback;
  }
}

/** Writes a state file, recording this func's format for the directory first. */
function writeState(ctx: CallContext, name: string, data: string): void {
  stampFormatFile(STORE_FORMATS.filetracker, stateFile(ctx, "format.json"));
  writeFileAtomic(stateFile(ctx, name), data);
}

function tracked(ctx: CallContext): string[] {
  const v = readJson<unknown>(stateFile(ctx, "tracked.json"), []);
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === "string") : [];
}

function saveTracked(ctx: CallContext, globs: string[]): string[] {
  const sorted = [...new Set(globs)].sort();
  if (sorted.length > MAX_GLOBS) throw new FuncError("LimitExceeded", `filetracker tracks at most ${MAX_GLOBS} globs`);
  writeState(ctx, "tracked.json", JSON.stringify(sorted));
  return sorted;
}

/** The paths an absolute glob matches (`*`, `?`, `[...]` within a segment; no `**`), sorted. */
export function expandGlob(glob: string, limit = MAX_FILES): string[] {
  const segments = glob.split("/").filter(Boolean);
  let paths = ["/"];
  for (const seg of segments) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!isGlob(seg)) {
        next.push(join(dir, seg));
        continue;
      }
      const re = globToRegExp(seg, true);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n) && (seg.startsWith(".") || !n.startsWith("."))) next.push(join(dir, n));
      if (next.length > limit) break;
    }
    paths = next.slice(0, limit);
  }
  return paths.filter((p) => lstatSync(p, { throwIfNoEntry: false }) !== undefined);
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

const names = { users: new Map<number, string>(), groups: new Map<number, string>() };
function idName(kind: "users" | "groups", id: number): string {
  if (names[kind].size === 0) {
    const file = kind === "users" ? "/etc/passwd" : "/etc/group";
    try {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        const [n, , i] = line.split(":");
        if (n && i) names[kind].set(Number(i), n);
      }
    } catch {
      // names stay numeric
    }
    if (kind === "users") names.users.set(process.getuid?.() ?? -1, userInfo().username);
  }
  return names[kind].get(id) ?? String(id);
}

async function entry(path: string, st: Stats): Promise<FileEntry> {
  const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "link" : "other";
  let digest = "";
  if (st.isFile()) {
    try {
      digest = await sha256(path);
    } catch {
      digest = "unreadable";
    }
  }
  return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, owner: idName("users", st.uid), group: idName("groups", st.gid), size: st.size, mtime: Math.floor(st.mtimeMs / 1000), sha256: digest };
}

async function snapshot(ctx: CallContext): Promise<Snapshot> {
  const out: Snapshot = {};
  let count = 0;
  for (const glob of tracked(ctx)) {
    for (const path of expandGlob(glob)) {
      if (out[path] || count >= MAX_FILES) continue;
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      out[path] = await entry(path, st);
      count += 1;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const filetrackerModule = implement(FILETRACKER, {
  track: (ctx, globs) => saveTracked(ctx, [...tracked(ctx), ...globs]),
  untrack: (ctx, globs) => saveTracked(ctx, tracked(ctx).filter((g) => !globs.includes(g))),
  list: (ctx) => tracked(ctx),
  inventory: async (ctx) => {
    const snap = await snapshot(ctx);
    writeState(ctx, "last-inventory.json", JSON.stringify(snap));
    return snap;
  },
  diff: async (ctx) => {
    const before = readJson<Snapshot>(stateFile(ctx, "last-inventory.json"), {});
    const now = await snapshot(ctx);
    const changed: Record<string, Record<string, (string | number)[]>> = {};
    for (const [path, cur] of Object.entries(now)) {
      const old = before[path];
      if (!old) continue;
      const fields: Record<string, (string | number)[]> = {};
      for (const k of Object.keys(cur)) if (old[k] !== cur[k]) fields[k] = [old[k] ?? "", cur[k]!];
      if (Object.keys(fields).length) changed[path] = fields;
    }
    return {
      added: Object.keys(now).filter((p) => !before[p]),
      removed: Object.keys(before).filter((p) => !now[p]),
      changed,
    };
  },
});
