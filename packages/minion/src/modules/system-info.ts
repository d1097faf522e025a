// `hardware`, `disk` and `process`: what a fleet operator asks first (Func's hardware.info, disk.usage,
// process.info). Read from node:os, /proc and `df`, never through a shell.

import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { arch, cpus, freemem, hostname, loadavg, release, totalmem, type as osType, uptime, userInfo } from "node:os";
import { promisify } from "node:util";
import type { WireValue } from "@func/shared";
import { FuncError } from "@func/shared/core";
import type { FuncModule } from "../registry.js";

const execFileP = promisify(execFile);
/** `df` should answer at once; a hung NFS mount must not hang the call. */
const DF_TIMEOUT_MS = 10_000;
/** Process listings are capped so one call cannot produce an unbounded answer. */
const MAX_PROCESSES = 5000;
const SIGNALS = ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP"] as const;

function osRelease(): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync("/etc/os-release", "utf8").split("\n")) {
      const m = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
      if (m) out[m[1]!] = m[3]!;
    }
    return out;
  } catch {
    return {};
  }
}

export const hardwareModule: FuncModule = {
  name: "hardware",
  description: "Host facts: OS, kernel, CPUs, memory",
  methods: {
    info: {
      doc: "OS, kernel, architecture, CPU model and count, memory (bytes), uptime (s), load averages.",
      example: 'func "*" call hardware info',
      params: [],
      run: () => {
        const rel = osRelease();
        const cpu = cpus();
        return {
          hostname: hostname(),
          os: rel.PRETTY_NAME ?? osType(),
          os_id: rel.ID ?? "",
          os_version: rel.VERSION_ID ?? "",
          kernel: release(),
          arch: arch(),
          cpu_model: cpu[0]?.model ?? "",
          cpus: cpu.length,
          memory_total: totalmem(),
          memory_free: freemem(),
          uptime: Math.round(uptime()),
          loadavg: loadavg(),
        };
      },
    },
  },
};

export const diskModule: FuncModule = {
  name: "disk",
  description: "File system usage",
  methods: {
    usage: {
      doc: "Usage per mount point from df: {mount: {device, fstype, total, used, available, percentage}} (bytes).",
      example: 'func "*" call disk usage /var',
      params: [{ name: "path", type: "string", optional: true }],
      run: async (_ctx, path) => {
        const args = ["-PT", "-B1"];
        if (typeof path === "string") {
          if (!path.startsWith("/") || path.includes("\0")) throw new FuncError("BadArguments", "disk.usage: path must be absolute");
          args.push("--", path);
        }
        const { stdout } = await execFileP("df", args, { timeout: DF_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 });
        const out: Record<string, WireValue> = {};
        for (const line of stdout.trim().split("\n").slice(1)) {
          const f = line.trim().split(/\s+/);
          if (f.length < 7) continue;
          out[f.slice(6).join(" ")] = {
            device: f[0]!,
            fstype: f[1]!,
            total: Number(f[2]),
            used: Number(f[3]),
            available: Number(f[4]),
            percentage: Number(f[5]!.replace("%", "")) || 0,
          };
        }
        return out;
      },
    },
  },
};

function readProc(pid: string): Record<string, WireValue> | null {
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

function processes(): Record<string, WireValue>[] {
  const out: Record<string, WireValue>[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const p = readProc(entry);
    if (p) out.push(p);
    if (out.length >= MAX_PROCESSES) break;
  }
  return out;
}

function signalName(value: WireValue | undefined): NodeJS.Signals {
  const s = (typeof value === "string" ? value : "TERM").toUpperCase().replace(/^SIG/, "");
  if (!(SIGNALS as readonly string[]).includes(s)) throw new FuncError("BadArguments", `signal must be one of ${SIGNALS.join(", ")}`);
  return `SIG${s}` as NodeJS.Signals;
}

export const processModule: FuncModule = {
  name: "process",
  description: "Processes: list, find, signal",
  methods: {
    info: {
      doc: "Every process: {pid, ppid, state, uid, rss, name, command} (at most 5000).",
      example: 'func "*" call process info',
      params: [],
      run: () => processes(),
    },
    grep: {
      doc: "Processes whose command line contains the text.",
      example: 'func "*" call process grep nginx',
      params: [{ name: "text", type: "string" }],
      run: (_ctx, text) => processes().filter((p) => String(p.command).includes(text as string)),
    },
    kill: {
      doc: "Sends a signal (default TERM) to a pid; returns true when it was sent.",
      example: 'func "web1" call process kill 1234 HUP',
      params: [
        { name: "pid", type: "int" },
        { name: "signal", type: "string", optional: true },
      ],
      run: (_ctx, pid, signal) => {
        const n = pid as number;
        if (n <= 1) throw new FuncError("BadArguments", "process.kill: pid must be > 1");
        process.kill(n, signalName(signal));
        return true;
      },
    },
    pkill: {
      doc: "Sends a signal (default TERM) to every process with this exact name; returns the pids signalled.",
      example: 'func "web*" call process pkill nginx HUP',
      params: [
        { name: "name", type: "string" },
        { name: "signal", type: "string", optional: true },
      ],
      run: (_ctx, name, signal) => {
        const sig = signalName(signal);
        const hit: number[] = [];
        for (const p of processes()) {
          if (p.name !== name || (p.pid as number) <= 1 || p.pid === process.pid) continue;
          try {
            process.kill(p.pid as number, sig);
            hit.push(p.pid as number);
          } catch {
            // gone between listing and signalling
          }
        }
        return hit;
      },
    },
    loadavg: {
      doc: "1, 5 and 15 minute load averages.",
      example: 'func "*" call process loadavg',
      params: [],
      run: () => loadavg(),
    },
    whoami: {
      doc: "The user funcd runs as.",
      example: 'func "*" call process whoami',
      params: [],
      run: () => userInfo().username,
    },
  },
};
