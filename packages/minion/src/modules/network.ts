// The `network` module: interfaces (node:os and /sys/class/net), routes (/proc/net/route, ipv6_route) and
// whether a TCP port answers (a real connect, bounded by a timeout).

import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { NETWORK } from "@func/shared/core";
import { implement } from "../registry.js";
import { procAddress } from "./portinfo.js";

interface Route {
  [key: string]: string | number;
  destination: string;
  gateway: string;
  interface: string;
  metric: number;
  family: string;
}

function sysValue(iface: string, key: string): string {
  try {
    return readFileSync(`/sys/class/net/${iface}/${key}`, "utf8").trim();
  } catch {
    return "";
  }
}

function interfaces() {
  const addrs = networkInterfaces();
  let names: string[];
  try {
    names = readdirSync("/sys/class/net");
  } catch {
    names = Object.keys(addrs);
  }
  const out: Record<string, { state: string; mtu: number; mac: string; addresses: { address: string; family: string; netmask: string; cidr: string }[] }> = {};
  for (const name of [...new Set([...names, ...Object.keys(addrs)])].sort()) {
    const list = addrs[name] ?? [];
    out[name] = {
      state: sysValue(name, "operstate") || (list.length ? "up" : "unknown"),
      mtu: Number(sysValue(name, "mtu")) || 0,
      mac: sysValue(name, "address") || list[0]?.mac || "",
      addresses: list.map((a) => ({ address: a.address, family: a.family, netmask: a.netmask, cidr: a.cidr ?? "" })),
    };
  }
  return out;
}

/** A /proc/net/route mask as a prefix length. */
function prefixLength(hexMask: string): number {
  return [...procAddress(hexMask).split(".")].reduce((n, b) => n + Number(b).toString(2).replace(/0/g, "").length, 0);
}

function routes(): Route[] {
  const out: Route[] = [];
  try {
    for (const line of readFileSync("/proc/net/route", "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      out.push({ destination: `${procAddress(f[1]!)}/${prefixLength(f[7]!)}`, gateway: procAddress(f[2]!), interface: f[0]!, metric: Number(f[6]), family: "IPv4" });
    }
  } catch {
    // no IPv4 routing table visible
  }
  try {
    for (const line of readFileSync("/proc/net/ipv6_route", "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      // ipv6_route writes addresses in network byte order, not word by word
      const v6 = (hex: string) => new URL(`http://[${hex.match(/.{4}/g)!.join(":")}]/`).hostname.slice(1, -1);
      out.push({ destination: `${v6(f[0]!)}/${parseInt(f[1]!, 16)}`, gateway: v6(f[4]!), interface: f[9]!, metric: parseInt(f[5]!, 16), family: "IPv6" });
    }
  } catch {
    // no IPv6
  }
  return out;
}

function reachable(host: string, port: number, timeoutS: number): Promise<{ reachable: boolean; ms: number; error: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean, error: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reachable: ok, ms: Math.round((performance.now() - started) * 10) / 10, error });
    };
    const timer = setTimeout(() => done(false, `no answer within ${timeoutS}s`), timeoutS * 1000);
    socket.once("connect", () => done(true, ""));
    socket.once("error", (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
  });
}

export const networkModule = implement(NETWORK, {
  interfaces: () => interfaces(),
  routes: () => routes(),
  reachable: (_ctx, host, port, timeout) => reachable(host, port, timeout),
  inventory: () => ({ interfaces: interfaces(), routes: routes() }),
});
