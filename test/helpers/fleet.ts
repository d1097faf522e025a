// Test helper: a real local fleet (func-fleet's own code: real CA, real certs, detached funcd processes on
// loopback addresses) in a temp home, and the `func` CLI run as a real child process against it.

import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fleetDown, fleetUp, type FleetState, type FleetUpOptions } from "@func/overlord/fleet";
import { homePaths } from "@func/shared";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** what `npm install` links as `func`: the bin shim (checks Node, then runs the compiled CLI) */
export const FUNC_BIN = join(REPO, "packages/overlord/bin/func.js");
export const FUNC_CA_BIN = join(REPO, "packages/overlord/dist/bin/func-ca.js");
export const FUNC_FLEET_BIN = join(REPO, "packages/overlord/dist/bin/func-fleet.js");
export const FUNCD_BIN = join(REPO, "packages/minion/dist/bin/funcd.js");

export function tempHome(tag: string): string {
  return mkdtempSync(join(tmpdir(), `func-${tag}-`));
}

/**
 * Lets `--forks N` fork workers for a handful of hosts (overlord.conf `bucket_min_hosts = 1`; the default, 64,
 * keeps a small fan-out in one process), so that tests with a few minions exercise real forked buckets.
 */
export function smallBuckets(home: string): void {
  appendFileSync(homePaths(home).overlordConf, "bucket_min_hosts = 1\n");
}

export interface TestFleet extends FleetState {
  home: string;
  stop(): Promise<void>;
}

/**
 * Brings up `count` minions on 127.<subnet>.0.2.. so that test files never share addresses.
 * Call `stop()` in after(): it stops the funcd processes and removes the home.
 */
export async function startFleet(tag: string, subnet: number, count: number, extra: Partial<FleetUpOptions> = {}): Promise<TestFleet> {
  const home = tempHome(tag);
  let state: FleetState;
  try {
    state = await fleetUp(home, { count, baseAddress: `127.${subnet}.0.2`, port: 51234, ...extra });
  } catch (err) {
    // fleetUp has stopped whatever funcd processes it started
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  return {
    ...state,
    home,
    async stop() {
      await fleetDown(home, { graceMs: 2000 });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a node script (one of our bins) as a real process with FUNC_HOME set. */
export function runBin(bin: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

export function func(home: string, args: string[], timeoutMs?: number): Promise<RunResult> {
  return runBin(FUNC_BIN, args, { FUNC_HOME: home }, timeoutMs);
}
