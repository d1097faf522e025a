// What GET /api/minions reports: signed minions (address, cert expiry, last seen and last outcome from this
// service's calls), requests waiting for a signature (with their key fingerprints) and revoked names.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { certInfo, type HomePaths } from "@func/shared";
import { listSignedInfo, listWaiting } from "@func/overlord";
import type { HostHealth } from "./runs.js";

export interface MinionView {
  name: string;
  state: "answers" | "unreachable" | "unknown";
  address: string | null;
  port: number | null;
  certExpires: string;
  fingerprint: string;
  lastSeen: string | null;
  lastOutcome: string | null;
}

export interface FleetView {
  signed: MinionView[];
  waiting: Array<{ name: string; fingerprint: string; address: string | null; requested: string | null; lastSeen: string | null }>;
  revoked: Array<{ name: string; serial: string | null }>;
  counts: { signed: number; answers: number; unreachable: number; unknown: number; waiting: number; revoked: number };
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === "number" ? new Date(ms).toISOString() : null);

export function fleetView(paths: HomePaths, health: ReadonlyMap<string, HostHealth>): FleetView {
  const signed = listSignedInfo(paths).map((m): MinionView => {
    const h = health.get(m.name);
    const state = !h ? "unknown" : h.lastOutcome === "unreachable" || h.lastOutcome === "timeout" ? "unreachable" : "answers";
    return { name: m.name, state, address: m.address, port: m.port, certExpires: m.notAfter, fingerprint: m.fingerprint, lastSeen: iso(h?.lastSeen), lastOutcome: h?.lastOutcome ?? null };
  });
  const waiting = listWaiting(paths).map((w) => ({ name: w.name, fingerprint: w.fingerprint, address: w.address, requested: w.requested, lastSeen: w.lastSeen ?? null }));
  const revoked = existsSync(paths.revokedDir)
    ? readdirSync(paths.revokedDir)
        .filter((f) => f.endsWith(".crt"))
        .sort()
        .map((f) => {
          let serial: string | null = null;
          try {
            serial = certInfo(readFileSync(join(paths.revokedDir, f), "utf8")).serial;
          } catch {
            // unreadable: listed by name only
          }
          return { name: basename(f, ".crt"), serial };
        })
    : [];
  const count = (s: MinionView["state"]) => signed.filter((m) => m.state === s).length;
  return {
    signed,
    waiting,
    revoked,
    counts: { signed: signed.length, answers: count("answers"), unreachable: count("unreachable"), unknown: count("unknown"), waiting: waiting.length, revoked: revoked.length },
  };
}
