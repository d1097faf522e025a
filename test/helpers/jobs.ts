// Test helpers for async jobs: restart a fleet minion's funcd after a test killed it (recorded in fleet.json so
// fleetDown still stops it), and poll for a condition.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fleetFile, funcdArgs, readFleet } from "@func/overlord/fleet";
import { Overlord } from "@func/overlord";
import type { TestFleet } from "./fleet.js";

/** Polls `check` every `everyMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Starts a new funcd for one minion of the fleet (after a test killed its process) and waits until it answers. */
export async function restartFuncd(fleet: TestFleet, name: string): Promise<number> {
  const minion = fleet.minions.find((m) => m.name === name)!;
  const child = spawn(process.execPath, funcdArgs([minion.home]), { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid!;
  minion.pid = pid;
  const state = readFleet(fleet.home)!;
  state.pids.push(pid);
  for (const m of state.minions) if (m.name === name) m.pid = pid;
  writeFileSync(fleetFile(fleet.home), JSON.stringify(state, null, 2) + "\n");
  const o = new Overlord(name, { home: fleet.home, timeout: 2 });
  try {
    await until(`${name} to answer again`, async () => ((await o.call("test", "ping"))[name]?.outcome === "ok" ? true : undefined));
  } finally {
    await o.close();
  }
  return pid;
}

/** A minion's job records (jobs.list) started for one overlord job. */
export async function minionJobsFor(home: string, host: string, overlordJob: string): Promise<{ id: string; pid?: number; status: number }[]> {
  const o = new Overlord(host, { home });
  try {
    const r = (await o.call("jobs", "list"))[host]!;
    if (r.outcome !== "ok") throw new Error(`${host}: jobs.list: ${r.error.message}`);
    return (r.value as { id: string; pid?: number; status: number; overlord_job?: string }[]).filter((j) => j.overlord_job === overlordJob);
  } finally {
    await o.close();
  }
}
