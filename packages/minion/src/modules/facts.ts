// The `facts` module: the host facts fact filters compare (`--filter "os=debian,cpus>=4"`), gathered from
// node:os, /etc/os-release and systemd-detect-virt, and cached for a few seconds (a filtered fan-out asks
// every host first).

import { existsSync, readFileSync } from "node:fs";
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from "node:os";
import { FACTS, FUNC_VERSION } from "@func/shared/core";
import { implement } from "../registry.js";
import { runTool } from "../tool.js";
import { osRelease } from "./hardware.js";

/** How long gathered facts are reused, ms. */
const FACTS_TTL_MS = 10_000;

type Facts = Record<string, string | number>;
let cached: { at: number; facts: Promise<Facts> } | undefined;

async function virtualisation(): Promise<string> {
  const r = await runTool("systemd-detect-virt", [], 5000);
  const word = r.stdout.trim();
  if (r.rc !== 127 && word) return word;
  if (existsSync("/.dockerenv")) return "docker";
  if (existsSync("/run/.containerenv")) return "podman";
  try {
    if (/^flags\s*:.*\bhypervisor\b/m.test(readFileSync("/proc/cpuinfo", "utf8"))) return "vm";
  } catch {
    // no /proc/cpuinfo
  }
  return "none";
}

async function fqdn(): Promise<string> {
  const r = await runTool("hostname", ["-f"], 5000);
  return r.rc === 0 && r.stdout.trim() ? r.stdout.trim() : hostname();
}

async function gather(): Promise<Facts> {
  const rel = osRelease();
  const addresses = Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((a) => !a.internal)
    .map((a) => a.address);
  const [virt, name] = await Promise.all([virtualisation(), fqdn()]);
  return {
    os: rel.ID ?? "",
    os_version: rel.VERSION_ID ?? "",
    os_name: rel.PRETTY_NAME ?? "",
    kernel: release(),
    arch: arch(),
    cpus: cpus().length,
    memory: totalmem(),
    hostname: hostname(),
    fqdn: name,
    addresses: addresses.join(","),
    virtualisation: virt,
    funcd_version: FUNC_VERSION,
  };
}

export const factsModule = implement(FACTS, {
  get: () => {
    if (!cached || Date.now() - cached.at > FACTS_TTL_MS) cached = { at: Date.now(), facts: gather() };
    return cached.facts;
  },
});
