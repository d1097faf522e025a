// The local fleet (DESIGN section 11): N real minions on 127.0.0.2, 127.0.0.3, ... each with its own home,
// key, cert and job store under DIR/minions/<name>, served by detached funcd processes (several minions per
// process for large N) that enroll the real way: key and CSR made by funcd, sent to an enrollment service this
// process runs on <base address>:51235 with autosign for the fleet's names; or, with `certs: "direct"` (large
// fleets), each given its own key and cert by the CA here. Used by the demo, tests, benchmarks.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { copyFileSync } from "node:fs";
import {
  DEFAULTS,
  ENROLL_PORT,
  FUNCD_NODE_FLAGS,
  FuncError,
  KEY_FILE_MODE,
  MINION_PORT,
  formatIni,
  homePaths,
  minionAddressFile,
  processRunning,
  signedCertFile,
  spawnDetached,
  writeFileAtomic,
  type HomePaths,
} from "@func/shared";
import { caFingerprint, initCa, issueIdentity } from "../ca/ca.js";
import { buildMap } from "../delegation/build-map.js";
import { installDirectCert } from "./direct-certs.js";
import { checkOpenFiles } from "./open-files.js";
import { startEnrollService, type EnrollService } from "../ca/enroll-service.js";
import { Overlord } from "../call/overlord.js";

export { FDS_PER_MINION, FDS_PER_PROCESS, checkOpenFiles, openFilesLimit } from "./open-files.js";

export interface FleetMinion {
  name: string;
  address: string;
  port: number;
  pid: number;
  home: string;
  /** in a tree: the sub-overlord that serves this minion (absent: the top overlord) */
  under?: string;
  /** in a tree: this minion is a sub-overlord */
  sub?: boolean;
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
  /** a tree: this many sub-overlords (each a minion of the top overlord) with the `count` leaves spread under them */
  subOverlords?: number;
  /** 2: the first sub-overlord gets a sub-sub-overlord with half of its leaves */
  depth?: number;
  /**
   * How minions get their certs: "enroll" (default) the real way, funcd making its key and CSR and the fleet's
   * enrollment service signing; "direct": the CA here issues each minion's own key and cert and installs them
   * in its home (no enrollment service; ~0.7 ms of CPU per cert instead of ~50, for fleets of thousands).
   */
  certs?: FleetCerts;
}

export type FleetCerts = "enroll" | "direct";

/** How long fleetDown waits for SIGKILLed funcd processes to be gone. */
const KILL_REAP_MS = 5000;

/**
 * Most minions `func-fleet up` starts (the leaves; a tree adds its sub-overlords). 127.0.0.0/8 has room for
 * more; memory does not: a minion costs ~0.45 MB in a funcd process of 250 (~9 GB at this limit). Open files
 * are checked per funcd process (open-files.ts). The largest fleet measured is 10,000 leaves (bench/README.md).
 */
export const MAX_FLEET = 20_000;
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
  const opts = { listenAddr: address, autosign: names, rateLimit: null, maxConnectionsPerSource: null };
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
  const port = opts.port ?? MINION_PORT;
  const baseAddress = opts.baseAddress ?? "127.0.0.2";
  const tree = opts.subOverlords ? treeLayout(opts.count, opts.subOverlords, opts.depth ?? 1, opts.prefix ?? "leaf") : null;
  const prefix = opts.prefix ?? "minion";
  const width = Math.max(2, String(opts.count).length);
  const names = tree ? tree.names : Array.from({ length: opts.count }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
  const minions = names.map((name, i) => ({ name, address: nthAddress(baseAddress, i), port }));
  const perProcess = opts.perProcess ?? (opts.count <= SMALL_FLEET ? 1 : Math.ceil(opts.count / LARGE_FLEET_PROCESSES));
  const sizes = tree ? tree.processSizes(opts.perProcess ?? TREE_LEAVES_PER_PROCESS) : chunkSizes(minions.length, perProcess);
  checkOpenFiles(Math.max(...sizes));
  const direct = (opts.certs ?? "enroll") === "direct";
  if (opts.certs !== undefined && opts.certs !== "enroll" && opts.certs !== "direct") throw new FuncError("UsageError", `--certs must be enroll or direct, not ${String(opts.certs)}`);
  // every check above comes before anything is made in the home
  const paths = homePaths(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (await initCa(paths)) log(`created a CA in ${paths.caDir}`);
  // direct: no enrollment service, and minions that do not look for one (no CRL refresh from it either)
  const service = direct ? null : await startFleetService(paths, baseAddress, opts.enrollPort ?? ENROLL_PORT, minions.map((m) => m.name));
  try {
    const serviceConf: Record<string, string> = service ? { certmaster: service.address, certmaster_port: String(service.port), ca_fingerprint: caFingerprint(paths) } : {};
    const homes = minions.map((m) => prepareMinion(paths, m, { ...serviceConf, ...opts.minionConf }));
    writeFileSync(
      paths.overlordConf,
      formatIni({ main: { listen_port: String(port), ...(service ? { certmaster_listen_addr: service.address, certmaster_port: String(service.port) } : {}) } }),
    );
    if (service) log(`enrollment service on ${service.address}:${service.port}`);
    // direct: each process's minions get their certs just before it starts, so funcd starts while the next are signed
    const prepare = direct
      ? async (from: number, to: number) => {
          for (let i = from; i < to; i++) await installDirectCert(paths, homes[i]!, minions[i]!);
        }
      : null;
    const state = await startAndWait(home, paths, minions, homes, sizes, opts, log, prepare);
    if (tree) {
      try {
        await makeTree(paths, state, tree.under, log);
      } catch (err) {
        await fleetDown(home, { graceMs: 2000 });
        throw err;
      }
    }
    writeFileSync(fleetFile(home), JSON.stringify(state, null, 2) + "\n");
    return state;
  } finally {
    await service?.close();
  }
}

/** A sub-overlord's fan-out concurrency in a tree of `subs` on one machine: the default shared between them. */
export function subConcurrency(subs: number): number {
  return Math.max(MIN_SUB_CONCURRENCY, Math.floor(DEFAULTS.overlord.concurrency / subs));
}
const MIN_SUB_CONCURRENCY = 8;

/** Leaves per funcd process in a tree (the issue's 250). */
const TREE_LEAVES_PER_PROCESS = 250;

function chunkSizes(total: number, per: number): number[] {
  const out: number[] = [];
  for (let left = total; left > 0; left -= per) out.push(Math.min(per, left));
  return out;
}

/**
 * The names of a tree fleet in address order (sub-overlords first, then the sub-sub-overlord, then the
 * leaves), who serves whom, and how they are grouped into funcd processes (each sub-overlord its own).
 */
export function treeLayout(count: number, subs: number, depth: number, prefix: string) {
  if (!Number.isInteger(subs) || subs < 1 || subs > count) throw new FuncError("UsageError", `--sub-overlords must be 1..${count} (the leaves)`);
  if (depth !== 1 && depth !== 2) throw new FuncError("UsageError", "--depth must be 1 or 2");
  const width = Math.max(3, String(count).length);
  const subNames = Array.from({ length: subs }, (_, i) => `sub${i + 1}`);
  const subSub = depth === 2 ? ["sub1a"] : [];
  const leaves = Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
  const under = new Map<string, string>();
  const perSub = Math.ceil(count / subs);
  leaves.forEach((leaf, i) => under.set(leaf, subNames[Math.floor(i / perSub)]!));
  if (depth === 2) {
    under.set("sub1a", "sub1");
    const first = leaves.filter((l) => under.get(l) === "sub1");
    for (const leaf of first.slice(Math.floor(first.length / 2))) under.set(leaf, "sub1a");
  }
  const names = [...subNames, ...subSub, ...leaves];
  return {
    names,
    under,
    processSizes(per: number): number[] {
      // one process per sub-overlord, then the leaves, each process holding leaves of one parent only
      const sizes = [...subNames, ...subSub].map(() => 1);
      let run = 0;
      let parent: string | undefined;
      for (const leaf of leaves) {
        const p = under.get(leaf);
        if (run === per || (run > 0 && p !== parent)) {
          sizes.push(run);
          run = 0;
        }
        parent = p;
        run += 1;
      }
      if (run) sizes.push(run);
      return sizes;
    },
  };
}

/**
 * Makes the sub-overlords of a tree fleet: each gets an overlord identity from the fleet's CA (the same CA
 * for every tier) and the records of the minions it serves in its own home, then the top builds the map
 * (each sub-overlord asked in turn asks its own).
 */
async function makeTree(paths: HomePaths, state: FleetState, under: ReadonlyMap<string, string>, log: (m: string) => void): Promise<void> {
  const byName = new Map(state.minions.map((m) => [m.name, m]));
  const subs = new Set(under.values());
  for (const m of state.minions) {
    const parent = under.get(m.name);
    if (parent) m.under = parent;
    if (subs.has(m.name)) m.sub = true;
  }
  for (const sub of subs) {
    const subHome = homePaths(byName.get(sub)!.home);
    const pair = await issueIdentity(paths, `${sub}-overlord`, { role: "overlord" });
    mkdirSync(subHome.signedDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(subHome.overlordKey, pair.keyPem, KEY_FILE_MODE);
    writeFileAtomic(subHome.overlordCert, pair.certPem);
    copyFileSync(paths.caCert, subHome.caCert);
    copyFileSync(paths.crl, subHome.crl);
    for (const [child, parent] of under) {
      if (parent !== sub) continue;
      copyFileSync(signedCertFile(paths, child), signedCertFile(subHome, child));
      copyFileSync(minionAddressFile(paths, child), minionAddressFile(subHome, child));
    }
    // every tier shares this machine's cores: the sub-overlords together keep as many calls in flight as one
    // overlord would (200 each would be 200 x K handshakes at once, and the starved ones time out)
    writeFileSync(subHome.overlordConf, `${readFileSync(paths.overlordConf, "utf8").replace(/\n*$/, "\n")}concurrency = ${subConcurrency(subs.size)}\n`);
  }
  const overlord = new Overlord("*", { home: paths, delegate: false, timeout: 60 });
  try {
    // only the top tier's sub-overlords are asked: every leaf is a direct minion here too (one CA), and asking
    // each of them would cost a handshake per leaf for an empty answer
    const top = [...subs].filter((s) => !under.has(s));
    const built = await buildMap(overlord, { only: top });
    if (built.failed.length) throw new FuncError("ConfigError", `map build: ${built.failed.slice(0, 3).map(([n, w]) => `${n}: ${w}`).join("; ")}`);
    log(`map built: ${built.map.subs.length} sub-overlord(s)`);
  } finally {
    await overlord.close();
  }
}

async function startAndWait(
  home: string,
  paths: HomePaths,
  minions: { name: string; address: string; port: number }[],
  homes: HomePaths[],
  sizes: readonly number[],
  opts: FleetUpOptions,
  log: (m: string) => void,
  prepare: ((from: number, to: number) => Promise<void>) | null,
): Promise<FleetState> {
  const state: FleetState = { home, minions: [], pids: [] };
  const logDir = join(home, "log");
  mkdirSync(logDir, { recursive: true });
  let start = 0;
  for (const size of sizes) {
    if (prepare) {
      try {
        await prepare(start, start + size);
      } catch (err) {
        // the processes started so far are stopped: a half-made fleet holds addresses
        writeFileSync(fleetFile(home), JSON.stringify(state, null, 2) + "\n");
        await fleetDown(home, { graceMs: 2000 });
        throw err;
      }
      if (start + size === minions.length || Math.floor((start + size) / 1000) > Math.floor(start / 1000)) log(`certs issued: ${start + size}/${minions.length}`);
    }
    const group = homes.slice(start, start + size);
    const { pid } = spawnDetached(funcdArgs(group.map((h) => h.configDir)), { logFile: join(logDir, `funcd-${minions[start]!.name}.log`) });
    state.pids.push(pid);
    group.forEach((h, k) => {
      const m = minions[start + k]!;
      state.minions.push({ ...m, pid, home: h.configDir });
    });
    start += size;
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

/**
 * Every running process that serves a minion home of this fleet: the ones `up` started, and any funcd started
 * again by hand (`funcd --home DIR/minions/<name>`, or with FUNC_HOME pointing there). Read from /proc; where
 * there is none, only the recorded pids. Keyed by pid, each with the minion homes it serves.
 */
export function fleetProcesses(home: string): Map<number, string[]> {
  const marker = join(home, "minions") + "/";
  const found = new Map<number, string[]>();
  const state = readFleet(home);
  for (const pid of state?.pids ?? []) if (fleetProcess(home)(pid)) found.set(pid, []);
  if (!existsSync("/proc/self/cmdline")) return found;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string[];
    let env: string[] = [];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!args.some((a) => /funcd(\.js)?$/.test(a))) continue;
      env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
    } catch {
      continue; // gone, or another user's
    }
    const homes = [...args, ...env.filter((e) => e.startsWith("FUNC_HOME=")).map((e) => e.slice("FUNC_HOME=".length))]
      .filter((a) => (a + "/").startsWith(marker))
      .map((a) => a.replace(/\/+$/, ""));
    if (homes.length > 0) found.set(Number(entry), homes);
  }
  return found;
}

/** One minion of the fleet as `func-fleet status` shows it. */
export interface MinionStatus extends FleetMinion {
  /** a process serving this minion's home is running */
  alive: boolean;
  /** the pids serving it now (the recorded one, or one started by hand) */
  pids: number[];
}

/** The fleet's minions with their liveness: a minion whose funcd died shows `alive: false`. */
export function fleetStatus(home: string): MinionStatus[] {
  const state = readFleet(home);
  if (!state) return [];
  const procs = fleetProcesses(home);
  return state.minions.map((m) => {
    // without /proc a recorded pid has no homes listed: it serves what up gave it
    const pids = [...procs].filter(([pid, homes]) => homes.includes(m.home) || (pid === m.pid && homes.length === 0)).map(([pid]) => pid);
    return { ...m, alive: pids.length > 0, pids };
  });
}

/**
 * Starts again the minions whose funcd is not running (all of them when `names` is empty, else those named;
 * a named one that runs is stopped first), one process each, and waits until they answer.
 */
export async function fleetRestart(home: string, names: readonly string[] = [], opts: { readyTimeoutMs?: number } = {}): Promise<FleetMinion[]> {
  const state = readFleet(home);
  if (!state) throw new FuncError("UsageError", `no fleet in ${home} (start one with func-fleet up --home ${home} --count N)`);
  const unknown = names.filter((n) => !state.minions.some((m) => m.name === n));
  if (unknown.length) throw new FuncError("UsageError", `no minion ${unknown.join(", ")} in this fleet (minions: ${state.minions.map((m) => m.name).join(", ")})`);
  const status = fleetStatus(home);
  const chosen = status.filter((m) => (names.length ? names.includes(m.name) : !m.alive));
  // a running process of a chosen minion that serves only it is stopped; one that serves others too keeps running
  const stop = chosen.flatMap((m) => m.pids).filter((pid) => status.filter((o) => o.pids.includes(pid)).every((o) => chosen.includes(o)));
  await stopPids([...new Set(stop)], 5000);
  const still = fleetStatus(home).filter((m) => chosen.some((c) => c.name === m.name) && m.alive);
  if (still.length) throw new FuncError("UsageError", `${still.map((m) => m.name).join(", ")} share a funcd with other minions: stop the fleet (func-fleet down) and bring it up again`);
  const logDir = join(home, "log");
  for (const m of chosen) {
    const { pid } = spawnDetached(funcdArgs([m.home]), { logFile: join(logDir, `funcd-${m.name}.log`) });
    state.minions.find((x) => x.name === m.name)!.pid = pid;
  }
  state.pids = [...new Set(state.minions.map((m) => m.pid))];
  writeFileSync(fleetFile(home), JSON.stringify(state, null, 2) + "\n");
  const overlord = new Overlord("*", { home: homePaths(home), timeout: 5 });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  try {
    let waiting = chosen.map((m) => m.name);
    while (waiting.length > 0) {
      const answered = new Set<string>();
      await overlord.fanOut(overlord.addresses(waiting), { method: "test.ping", params: [], timeoutMs: 5000 }, (h, r) => {
        if (r.outcome === "ok") answered.add(h);
      });
      waiting = waiting.filter((n) => !answered.has(n));
      if (waiting.length === 0) break;
      if (Date.now() > deadline) throw new FuncError("Timeout", `${waiting.join(", ")} did not answer after the restart: see ${logDir}`);
      await sleep(200);
    }
  } finally {
    await overlord.close();
  }
  return chosen.map(({ alive: _a, pids: _p, ...m }) => ({ ...m, pid: state.minions.find((x) => x.name === m.name)!.pid }));
}

/** SIGTERM, then SIGKILL for what still runs after `graceMs`. */
async function stopPids(pids: readonly number[], graceMs: number): Promise<void> {
  // a funcd's command line names funcd: a reused pid or a zombie does not count
  const running = (pid: number) => processRunning(pid, "funcd");
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(running) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(running)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // a killed process lingers until it is reaped (slow on a loaded machine): return once it is really gone
  const reaped = Date.now() + KILL_REAP_MS;
  while (pids.some(running) && Date.now() < reaped) await sleep(50);
}

/** Stops the fleet's funcd processes, those started by hand too (SIGTERM, then SIGKILL after a grace period). */
export async function fleetDown(home: string, opts: { graceMs?: number } = {}): Promise<{ stopped: number[] }> {
  const state = readFleet(home);
  if (!state) return { stopped: [] };
  const live = [...new Set([...state.pids.filter(fleetProcess(home)), ...fleetProcesses(home).keys()])];
  await stopPids(live, opts.graceMs ?? 5000);
  return { stopped: live };
}
