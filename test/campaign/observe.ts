// Campaign observations of a live process and a minion home, read from /proc and the file system:
// RSS, open file descriptors, zombie children, and a content snapshot of a home to prove nothing changed.

import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie (killed, not yet reaped by its parent) holds nothing: it counts as gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Whether the process is stopped (SIGSTOP) or a zombie, from /proc/PID/stat. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

/** Resident set size in KiB (VmRSS), or null when the process is gone. */
export function rssKib(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Open file descriptors, or null when the process is gone. */
export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Children of `pid` (direct), with their state letters. */
export function children(pid: number): { pid: number; stat: string }[] {
  try {
    const out = execFileSync("ps", ["-o", "pid=,stat=", "--ppid", String(pid)], { encoding: "utf8" });
    return out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [p, s] = l.trim().split(/\s+/);
        return { pid: Number(p), stat: s ?? "" };
      });
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

/** Defunct (zombie) children of `pid`. */
export function zombies(pid: number): number {
  return children(pid).filter((c) => c.stat.startsWith("Z")).length;
}

/** Samples RSS of `pid` every `everyMs` until stopped; gives the peak seen (KiB). */
export function rssSampler(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssKib(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKib(pid) ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssKib(pid) ?? 0);
    },
  };
}

/** Waits until `probe()` is at most `target` or `maxMs` passes; returns the last value. */
export async function settle(probe: () => number | null, target: number, maxMs: number): Promise<number | null> {
  const deadline = Date.now() + maxMs;
  let v = probe();
  while (v !== null && v > target && Date.now() < deadline) {
    await sleep(100);
    v = probe();
  }
  return v;
}

export type Snapshot = Map<string, string>;

/** Every file under `dir` except `skip`, as path -> "size sha256". */
export function snapshotDir(dir: string, skip: readonly string[] = []): Snapshot {
  const out: Snapshot = new Map();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (skip.includes(p)) continue;
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        const data = readFileSync(p);
        out.set(relative(dir, p), `${statSync(p).size} ${createHash("sha256").update(data).digest("hex").slice(0, 16)}`);
      } else out.set(relative(dir, p), entry.isSymbolicLink() ? "symlink" : "special");
    }
  };
  walk(dir);
  return out;
}

/** What differs between two snapshots, as short lines ("+ new", "- gone", "~ changed"). */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [p, v] of after) {
    if (!before.has(p)) out.push(`+ ${p}`);
    else if (before.get(p) !== v) out.push(`~ ${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`- ${p}`);
  return out;
}

/** Lines in a file (0 when it does not exist). */
export function lineCount(file: string): number {
  try {
    const text = readFileSync(file, "utf8");
    return text === "" ? 0 : text.split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Parsed JSON lines of a file from line `from` on. */
export function linesFrom(file: string, from: number): Record<string, unknown>[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(from)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
}
