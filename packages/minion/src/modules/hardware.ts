// The `hardware` module: what a fleet operator asks first (Func's hardware.info), from node:os and
// /etc/os-release, never through a shell.

import { readFileSync } from "node:fs";
import { arch, cpus, freemem, hostname, loadavg, release, totalmem, type as osType, uptime } from "node:os";
import { HARDWARE } from "@func/shared/core";
import { implement } from "../registry.js";

/** /etc/os-release as key -> value (quotes removed); empty when it cannot be read. */
export function osRelease(): Record<string, string> {
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

/** What hardware.info answers: the facts an operator asks first, load included. */
function info() {
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
}

export const hardwareModule = implement(HARDWARE, {
  info: () => info(),
  // what does not change from one minute to the next: func-inventory diffs it
  inventory: () => {
    const { memory_free: _free, uptime: _up, loadavg: _load, ...stable } = info();
    return stable;
  },
});
