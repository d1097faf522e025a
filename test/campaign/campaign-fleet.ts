// The fleets the campaign runs against: real funcd processes from func-fleet's own code, with limits
// set low enough that slowloris, idle and slow-body cases finish in seconds; plus ways to kill, stop and
// restart one minion's funcd and to find the files each case watches.

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MINION_PORT, encodeCall, homePaths, type HomePaths } from "@func/shared";
import { fleetFile, funcdArgs, type FleetMinion } from "@func/overlord/fleet";
import { smallBuckets, startFleet, type TestFleet } from "../helpers/fleet.js";
import { alive, zombies } from "./observe.js";
import { rawCall, type Identity, type Target } from "./probe.js";

/** Header deadline of campaign minions, ms: a slowloris or idle connection must be cut within this (plus a check tick). */
export const CAMPAIGN_HEADERS_TIMEOUT_MS = 2000;
/** Whole-request deadline of campaign minions, ms: a body that stalls is cut within this. */
export const CAMPAIGN_REQUEST_TIMEOUT_MS = 4000;
/** Connection cap of campaign minions: small, so "many idle connections" passes it without a huge client. */
export const CAMPAIGN_MAX_CONNECTIONS = 32;

/**
 * TLS handshake deadline of campaign minions, ms (the default): a stranger's silent socket is cut within this.
 * Shorter (2 s) cut real handshakes of the flood cases when a CPU hog ran beside the suite.
 */
export const CAMPAIGN_HANDSHAKE_TIMEOUT_MS = 10_000;
/** One identity's share of the async cap (the overlord is not held to it): small, so a case can reach it. */
export const CAMPAIGN_ASYNC_JOBS_PER_IDENTITY = 2;

/** minion.conf keys every campaign minion gets; the other limits keep their defaults (what operators run). */
export const CAMPAIGN_MINION_CONF: Record<string, string> = {
  headers_timeout_ms: String(CAMPAIGN_HEADERS_TIMEOUT_MS),
  request_timeout_ms: String(CAMPAIGN_REQUEST_TIMEOUT_MS),
  max_connections: String(CAMPAIGN_MAX_CONNECTIONS),
  handshake_timeout_ms: String(CAMPAIGN_HANDSHAKE_TIMEOUT_MS),
  max_async_jobs_per_identity: String(CAMPAIGN_ASYNC_JOBS_PER_IDENTITY),
};

export interface CampaignFleetOptions {
  /** the file module's only root (file_roots) for every minion of the fleet */
  fileRoot: string;
  /** minions per funcd process (default 1: each its own process, so one can be killed alone) */
  perProcess?: number;
}

export class CampaignFleet {
  /** fleets started and not stopped yet, so an interrupted campaign can still stop them */
  static readonly #running = new Set<CampaignFleet>();
  readonly fleet: TestFleet;
  readonly overlord: Identity;
  readonly paths: HomePaths;
  readonly fileRoot: string;

  private constructor(fleet: TestFleet, fileRoot: string) {
    this.fleet = fleet;
    this.fileRoot = fileRoot;
    this.paths = homePaths(fleet.home);
    this.overlord = {
      key: readFileSync(this.paths.overlordKey, "utf8"),
      cert: readFileSync(this.paths.overlordCert, "utf8"),
      ca: readFileSync(this.paths.caCert, "utf8"),
    };
  }

  static async start(tag: string, subnet: number, count: number, opts: CampaignFleetOptions): Promise<CampaignFleet> {
    const fleet = await startFleet(tag, subnet, count, {
      port: MINION_PORT,
      minionConf: { ...CAMPAIGN_MINION_CONF, file_roots: opts.fileRoot },
      perProcess: opts.perProcess ?? 1,
    });
    // the fault and soak cases fork bucket workers for a handful of hosts
    smallBuckets(fleet.home);
    const started = new CampaignFleet(fleet, opts.fileRoot);
    CampaignFleet.#running.add(started);
    return started;
  }

  /** Stops every fleet still running (the campaign script calls it on SIGINT and SIGTERM). */
  static async stopAll(): Promise<void> {
    await Promise.allSettled([...CampaignFleet.#running].map((f) => f.stop()));
  }

  get home(): string {
    return this.fleet.home;
  }

  get minions(): FleetMinion[] {
    return this.fleet.minions;
  }

  minion(i = 0): FleetMinion {
    return this.fleet.minions[i]!;
  }

  target(i = 0): Target {
    const m = this.minion(i);
    return { name: m.name, address: m.address, port: m.port };
  }

  minionPaths(i = 0): HomePaths {
    return homePaths(this.minion(i).home);
  }

  /** A minion's own identity: signed by the func CA, but with the minion role (no ACL grants it anything). */
  minionIdentity(i: number): Identity {
    const p = this.minionPaths(i);
    return { key: readFileSync(p.minionKey, "utf8"), cert: readFileSync(p.minionCert, "utf8"), ca: this.overlord.ca };
  }

  /** Whether minion i answers test.ping to the overlord within `maxMs`. */
  async answers(i = 0, maxMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    const body = encodeCall("test.ping", []);
    do {
      const r = await rawCall(this.target(i), this.overlord, { body });
      if (r.kind === "ok" && r.value === 1) return true;
      await sleep(200);
    } while (Date.now() < deadline);
    return false;
  }

  /** After a case: whether every minion answers again; what is wrong (no answer, zombie children) goes to `problems`. */
  async checkAfterCase(problems: string[]): Promise<boolean> {
    let up = true;
    for (let i = 0; i < this.minions.length; i++) {
      if (!(await this.answers(i, 15_000))) {
        up = false;
        problems.push(`${this.minion(i).name} does not answer after the case`);
      }
    }
    for (const pid of this.pidsOf(this.minions.map((_, i) => i))) {
      const z = zombies(pid);
      if (z) problems.push(`funcd ${pid} has ${z} zombie children`);
    }
    return up;
  }

  /** The funcd pids that serve the given minions. */
  pidsOf(indexes: readonly number[]): number[] {
    return [...new Set(indexes.map((i) => this.minion(i).pid))];
  }

  /**
   * Starts a new funcd for the minions that `pid` served (after a kill), records it in fleet.json so
   * func-fleet down stops it, and waits until they answer.
   */
  async restart(pid: number): Promise<number> {
    const served = this.fleet.minions.filter((m) => m.pid === pid);
    const logFile = join(this.home, "log", `funcd-${served[0]!.name}.log`);
    const fd = openSync(logFile, "a");
    const child = spawn(process.execPath, funcdArgs(served.map((m) => m.home)), { detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    child.unref();
    const newPid = child.pid!;
    for (const m of served) m.pid = newPid;
    this.fleet.pids = this.fleet.pids.filter((p) => p !== pid).concat(newPid);
    writeFileSync(fleetFile(this.home), JSON.stringify({ home: this.home, minions: this.fleet.minions, pids: this.fleet.pids }, null, 2) + "\n");
    for (const m of served) {
      if (!(await this.answers(this.fleet.minions.indexOf(m), 20_000))) throw new Error(`restarted funcd ${newPid} does not answer for ${m.name}`);
    }
    return newPid;
  }

  /** Stops the funcd serving minion i (SIGTERM, then SIGKILL after 5 s); returns its pid for restart(). */
  async terminate(i: number): Promise<number> {
    const pid = this.minion(i).pid;
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) process.kill(pid, "SIGKILL");
    while (alive(pid)) await sleep(20);
    return pid;
  }

  /** SIGCONT every funcd (a case that stopped one and failed must not leave it stopped), then stop the fleet. */
  async stop(): Promise<void> {
    CampaignFleet.#running.delete(this);
    for (const pid of this.fleet.pids) {
      if (alive(pid)) process.kill(pid, "SIGCONT");
    }
    await this.fleet.stop();
  }
}
