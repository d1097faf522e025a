// The `portinfo` module: listening TCP and bound UDP sockets from /proc/net, each with the process that
// holds it (found through /proc/<pid>/fd; processes funcd may not inspect show pid 0).

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { PORTINFO } from "@func/shared/core";
import { implement } from "../registry.js";

/** TCP state LISTEN and UDP state UNCONN (bound, not connected), as /proc/net writes them. */
const TCP_LISTEN = "0A";
const UDP_UNCONN = "07";

/** An address as /proc/net writes it (hex, each 32-bit word in host byte order, little-endian here). */
export function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // the URL parser writes IPv6 addresses in their canonical, compressed form
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** socket inode -> pid, over every process whose fds funcd may read. */
function socketOwners(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && !out.has(m[1]!)) out.set(m[1]!, Number(pid));
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

function command(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function listenPorts(): { address: string; port: number; protocol: string; pid: number; command: string }[] {
  const owners = socketOwners();
  const out: { address: string; port: number; protocol: string; pid: number; command: string }[] = [];
  for (const protocol of ["tcp", "tcp6", "udp", "udp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${protocol}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const state = f[3]!;
      if (state !== (protocol.startsWith("tcp") ? TCP_LISTEN : UDP_UNCONN)) continue;
      const [addr = "", port = "0"] = f[1]!.split(":");
      const pid = owners.get(f[9]!) ?? 0;
      out.push({ address: procAddress(addr), port: parseInt(port, 16), protocol, pid, command: pid ? command(pid) : "" });
    }
  }
  return out.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port || a.address.localeCompare(b.address));
}

export const portinfoModule = implement(PORTINFO, {
  listen_ports: () => listenPorts(),
});
