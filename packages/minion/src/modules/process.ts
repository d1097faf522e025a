// The `process` module: list, find and signal processes (Func's process.info), read from /proc.

import { readdirSync, readFileSync } from "node:fs";
import { loadavg, userInfo } from "node:os";
import { PROCESS } from "@func/shared/core";
import { implement } from "../registry.js";

/** Process listings are capped so one call cannot produce an unbounded answer. */
const MAX_PROCESSES = 5000;

export interface ProcessInfo {
  [key: string]: string | number;
  pid: number;
  ppid: number;
  state: string;
  uid: number;
  rss: number;
  name: string;
  command: string;
}

function readProc(pid: string): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name is in parentheses and may itself contain spaces and parentheses
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1] ?? "";
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").split("\0").join(" ");
    return { pid: Number(pid), ppid: Number(fields[1]), state: fields[0]!, uid: Number(uid), rss: rssKb * 1024, name, command: cmdline || `[${name}]` };
  } catch {
    return null;
  }
}

/** Every process this minion can see (at most MAX_PROCESSES). */
export function processes(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const p = readProc(entry);
    if (p) out.push(p);
    if (out.length >= MAX_PROCESSES) break;
  }
  return out;
}

/** The signal a checked signal word names (the signature allows any case and a SIG prefix). */
function signalName(word: string | undefined): NodeJS.Signals {
  return `SIG${(word ?? "TERM").toUpperCase().replace(/^SIG/, "")}` as NodeJS.Signals;
}

export const processModule = implement(PROCESS, {
  info: () => processes(),
  grep: (_ctx, text) => processes().filter((p) => p.command.includes(text)),
  kill: (_ctx, pid, signal) => {
    process.kill(pid, signalName(signal));
    return true;
  },
  pkill: (_ctx, name, signal) => {
    const sig = signalName(signal);
    const hit: number[] = [];
    for (const p of processes()) {
      if (p.name !== name || p.pid <= 1 || p.pid === process.pid) continue;
      try {
        process.kill(p.pid, sig);
        hit.push(p.pid);
      } catch {
        // gone between listing and signalling
      }
    }
    return hit;
  },
  loadavg: () => loadavg(),
  whoami: () => userInfo().username,
});
