// The local fleet (DESIGN section 11): N real minions on 127.0.0.2, 127.0.0.3, ... each with its own home,
// key, cert and job store under DIR/minions/<name>, served by detached funcd processes (several minions per
// process for large N) that enroll the real way: key and CSR made by funcd, sent to an enrollment service this
// process runs on <base address>:51235 with autosign for the fleet's names. Used by the demo, tests, benchmarks.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ENROLL_PORT, FUNCD_NODE_FLAGS, FuncError, MINION_PORT, formatIni, homePaths, processRunning, signedCertFile, spawnDetached, type HomePaths } from "@func/shared";
import { caFingerprint, initCa } from "../ca/ca-store.js";
import { startEnrollService, type EnrollService } from "../ca/enroll-service.js";
import { Overlord } from "../call/overlord.js";

export interface FleetMinion {
  name: string;
  address: string;
  port: number;
  pid: number;
  home: string;
}

export interface FleetState {
  home: string;
  minions: FleetMinion[];
  pids: number[];
}

export interface FleetUpOptions {
  count: number;
  /** first minion address (default 127.0.0.2) */
  baseAddress?: string;
  port?: number;
  /** minions served by one funcd process (default: 1 each up to 20 minions, else spread over 4 processes) */
  perProcess?: number;
  /** name prefix (default "minion") */
  prefix?: string;
  /** extra minion.conf keys for every minion */
  minionConf?: Record<string, string>;
  /** port of the fleet's enrollment service on the base address (default 51235; taken: any free port) */
  enrollPort?: number;
  /** how long to wait for every minion to answer, ms */
  readyTimeoutMs?: number;
  /** progress lines for long work (the CLI prints them on stderr) */
  log?: (message: string) => void;
}

/** How long fleetDown waits for SIGKILLed funcd processes to be gone. */
const KILL_REAP_MS = 5000;

/** Most minions `func-fleet up` starts: 127.0.0.0/8 has room for more, but this machine does not. */
export const MAX_FLEET = 5000;
const SMALL_FLEET = 20;
const LARGE_FLEET_PROCESSES = 4;

export function fleetFile(home: string): string {
  return join(home, "fleet.json");
}

/** 127.0.0.2 + i, carried into the next octets (127.0.1.0, ...). */
export function nthAddress(base: string, i: number): string {
  const parts = base.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new FuncError("UsageError", `--base-address ${base} is not an IPv4 address`);
  }
  let n = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]! + i;
  const out = [];
  for (let k = 0; k < 4; k++) {
    out.unshift(n & 255);
    n = Math.floor(n / 256);
  }
  return out.join(".");
}

export function funcdPath(): string {
  return fileURLToPath(import.meta.resolve("@func/minion/funcd"));
}

/** Node's arguments for one funcd process serving `homes` (--multi), with funcd's Node flags. */
export function funcdArgs(homes: readonly string[]): string[] {
  return [...FUNCD_NODE_FLAGS, funcdPath(), "--multi", ...homes];
}

export function readFleet(home: string): FleetState | null {
  const f = fleetFile(home);
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, "utf8")) as FleetState;
}

/** A funcd of this fleet: its command line names a minion home under `home`, so a reused pid never counts. */
function fleetProcess(home: string): (pid: number) => boolean {
  const marker = join(home, "minions");
  return (pid) => processRunning(pid, marker);
}

/** Creates (or reuses) the minion's home: its minion.conf points at the fleet's enrollment service. funcd does the rest. */
function prepareMinion(paths: HomePaths, minion: { name: string; address: string; port: number }, conf: Record<string, string>): HomePaths {
  const home = join(paths.configDir, "minions", minion.name);
  const mp = homePaths(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(
    mp.minionConf,
    formatIni({ main: { minion_name: minion.name, listen_addr: minion.address, listen_port: String(minion.port), advertise_addr: minion.address, ...conf } }),
  );
  return mp;
}

/** The fleet's enrollment service: on the preferred port when it is free, else on any free port. */
async function startFleetService(paths: HomePaths, address: string, port: number, names: string[]): Promise<EnrollService> {
  const opts = { listenAddr: address, autosign: names, rateLimit: null };
  try {
    return await startEnrollService(paths, { ...opts, port });
  } catch (err) {
    if (port === 0 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    return startEnrollService(paths, { ...opts, port: 0 });
  }
}

export async function fleetUp(home: string, opts: FleetUpOptions): Promise<FleetState> {
  const log = opts.log ?? (() => {});
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > MAX_FLEET) {
    throw new FuncError("UsageError", `--count must be 1..${MAX_FLEET}`);
  }
  const existing = readFleet(home);
  const alive = fleetProcess(home);
  if (existing && existing.pids.some(alive)) {
    throw new FuncError("UsageError", `a fleet is already running in ${home} (pids ${existing.pids.filter(alive).join(", ")}): run "func-fleet down --home ${home}" first`);
  }
  const paths = homePaths(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (await initCa(paths)) log(`created a CA in ${paths.caDir}`);
  const port = opts.port ?? MINION_PORT;
  const prefix = opts.prefix ?? "minion";
  const width = Math.max(2, String(opts.count).length);
  const baseAddress = opts.baseAddress ?? "127.0.0.2";
  const minions = Array.from({ length: opts.count }, (_, i) => ({
    name: `${prefix}${String(i + 1).padStart(width, "0")}`,
    address: nthAddress(baseAddress, i),
    port,
  }));
  const service = await startFleetService(paths, baseAddress, opts.enrollPort ?? ENROLL_PORT, minions.map((m) => m.name));
  try {
    const serviceConf = { certmaster: service.address, certmaster_port: String(service.port), ca_fingerprint: caFingerprint(paths) };
    const homes = minions.map((m) => prepareMinion(paths, m, { ...serviceConf, ...opts.minionConf }));
    writeFileSync(
      paths.overlordConf,
      formatIni({ main: { listen_port: String(port), certmaster_listen_addr: service.address, certmaster_port: String(service.port) } }),
    );
    log(`enrollment service on ${service.address}:${service.port}`);
    return await startAndWait(home, paths, minions, homes, opts, log);
  } finally {
    await service.close();
  }
}

async function startAndWait(
  home: string,
  paths: HomePaths,
  minions: { name: string; address: string; port: number }[],
  homes: HomePaths[],
  opts: FleetUpOptions,
  log: (m: string) => void,
): Promise<FleetState> {
  const perProcess = opts.perProcess ?? (opts.count <= SMALL_FLEET ? 1 : Math.ceil(opts.count / LARGE_FLEET_PROCESSES));
  const state: FleetState = { home, minions: [], pids: [] };
  const logDir = join(home, "log");
  mkdirSync(logDir, { recursive: true });
  for (let start = 0; start < minions.length; start += perProcess) {
    const group = homes.slice(start, start + perProcess);
    const { pid } = spawnDetached(funcdArgs(group.map((h) => h.configDir)), { logFile: join(logDir, `funcd-${minions[start]!.name}.log`) });
    state.pids.push(pid);
    group.forEach((h, k) => {
      const m = minions[start + k]!;
      state.minions.push({ ...m, pid, home: h.configDir });
    });
  }
  writeFileSync(fleetFile(home), JSON.stringify(state, null, 2) + "\n");

  // ready when every minion answers test.ping with this overlord's own identity
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000 + opts.count * 50);
  let waiting = minions.map((m) => m.name);
  let lastProgress = "";
  const overlord = new Overlord("*", { home: paths, timeout: 5 });
  try {
    await waitReady();
  } catch (err) {
    // a fleet that did not come up leaves nothing running: its funcd processes would hold addresses and make
    // the next `up` fail too
    const { stopped } = await fleetDown(home, { graceMs: 2000 });
    if (err instanceof Error && stopped.length > 0) err.message += ` (stopped the ${stopped.length} funcd process(es) still running)`;
    throw err;
  } finally {
    await overlord.close();
  }
  return state;

  async function waitReady(): Promise<void> {
    while (waiting.length > 0) {
      const dead = state.pids.filter((p) => !fleetProcess(home)(p));
      if (dead.length > 0) throw new FuncError("ConfigError", `funcd process ${dead.join(", ")} exited: see ${logDir}`);
      // only enrolled minions have an address to dial (the others would be looked up in DNS, for nothing)
      const enrolled = waiting.filter((n) => existsSync(signedCertFile(paths, n)));
      const results = await new Promise<Record<string, boolean>>((resolve, reject) => {
        const out: Record<string, boolean> = {};
        if (enrolled.length === 0) return resolve(out);
        overlord
          .fanOut(overlord.addresses(enrolled), { method: "test.ping", params: [], timeoutMs: 5000 }, (h, r) => (out[h] = r.outcome === "ok"))
          .then(() => resolve(out), reject);
      });
      waiting = waiting.filter((n) => !results[n]);
      if (waiting.length === 0) break;
      if (Date.now() > deadline) throw new FuncError("Timeout", `${waiting.length} minion(s) did not answer: ${waiting.slice(0, 5).join(", ")}`);
      const starting = enrolled.filter((n) => !results[n]).length;
      const progress = `${minions.length - waiting.length}/${minions.length} answering, ${starting} enrolled and starting, ${waiting.length - starting} enrolling`;
      if (progress !== lastProgress) log(progress);
      lastProgress = progress;
      await sleep(200);
    }
  }
}

/** Stops the fleet's funcd processes (SIGTERM, then SIGKILL after a grace period). */
export async function fleetDown(home: string, opts: { graceMs?: number } = {}): Promise<{ stopped: number[] }> {
  const state = readFleet(home);
  if (!state) return { stopped: [] };
  const alive = fleetProcess(home);
  const live = state.pids.filter(alive);
  for (const pid of live) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + (opts.graceMs ?? 5000);
  while (live.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of live.filter(alive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // a killed process lingers until it is reaped (slow on a loaded machine): return once it is really gone
  const reaped = Date.now() + KILL_REAP_MS;
  while (live.some(alive) && Date.now() < reaped) await sleep(50);
  return { stopped: live };
}
