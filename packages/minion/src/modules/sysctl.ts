// The `sysctl` module: kernel parameters read and written through /proc/sys (net.* keys belong to the
// network namespace funcd runs in). Keys are checked by the signature and resolved under /proc/sys only.

import { readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { FuncError, SYSCTL } from "@func/shared/core";
import { implement } from "../registry.js";

const PROC_SYS = "/proc/sys";
/** Most keys `list` walks: the kernel has a few thousand. */
const MAX_KEYS = 50_000;
/** Longest value read back, bytes. */
const MAX_VALUE = 64 * 1024;

/** The file behind a key, which must exist and lie under /proc/sys. */
function keyFile(key: string): string {
  const file = join(PROC_SYS, ...key.split("."));
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new FuncError("NotFound", `sysctl: no key ${key}`);
  }
  if (!real.startsWith(PROC_SYS + sep) || !statSync(real).isFile()) throw new FuncError("NotFound", `sysctl: no key ${key}`);
  return real;
}

function read(file: string): string {
  const text = readFileSync(file, "utf8");
  return (text.length > MAX_VALUE ? text.slice(0, MAX_VALUE) : text).trim().replace(/\s+/g, " ");
}

/** Every readable key under /proc/sys, sorted. */
function list(): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  const walk = (dir: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (count >= MAX_KEYS) return;
      const key = prefix ? `${prefix}.${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), key);
      else if (e.isFile()) {
        try {
          const st = statSync(join(dir, e.name));
          if ((st.mode & 0o444) === 0) continue; // write-only (vm.drop_caches, net.ipv4.route.flush)
          out[key] = read(join(dir, e.name));
          count += 1;
        } catch {
          // not readable by this user, or refuses reads
        }
      }
    }
  };
  walk(PROC_SYS, "");
  return out;
}

export const sysctlModule = implement(SYSCTL, {
  list: () => list(),
  get: (_ctx, key) => {
    try {
      return read(keyFile(key));
    } catch (err) {
      if (err instanceof FuncError) throw err;
      throw new FuncError("MethodError", `sysctl.get ${key}: ${(err as Error).message}`);
    }
  },
  set: (_ctx, key, value) => {
    const file = keyFile(key);
    try {
      writeFileSync(file, `${value}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EINVAL") throw new FuncError("BadArguments", `sysctl.set: the kernel refused ${JSON.stringify(value)} for ${key}`);
      throw new FuncError("MethodError", `sysctl.set ${key}: ${code === "EACCES" || code === "EPERM" ? "permission denied (funcd must run as root)" : (err as Error).message}`);
    }
    return read(file);
  },
  inventory: () => list(),
});
