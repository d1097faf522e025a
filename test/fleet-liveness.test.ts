// func-fleet status shows which minions really run, restart starts a dead one again, and down stops a
// funcd that was restarted by hand (by --home or FUNC_HOME), not only the pids `up` recorded.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFleet } from "@func/overlord/fleet";
import { alive } from "./campaign/observe.js";
import { until } from "./helpers/jobs.js";
import { FUNCD_BIN, FUNC_FLEET_BIN, func, runBin, startFleet, type TestFleet } from "./helpers/fleet.js";

describe("func-fleet status, restart and down", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  const byHand: number[] = [];
  before(async () => {
    fleet = await startFleet("fleet-liveness", 141, 3, { perProcess: 1 });
  });
  after(async () => {
    for (const pid of byHand.filter(alive)) process.kill(pid, "SIGKILL");
    await fleet?.stop();
  });
  const fleetCmd = (...args: string[]) => runBin(FUNC_FLEET_BIN, [...args, "--home", fleet.home]);
  const pidOf = (name: string) => readFleet(fleet.home)!.minions.find((m) => m.name === name)!.pid;

  it("status shows a killed minion as dead (exit 4), restart brings it back", async () => {
    const up = await fleetCmd("status");
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^minion02 +running +127\.141\.0\.3:51234/m);
    const victim = pidOf("minion02");
    process.kill(victim, "SIGKILL");
    await until("minion02's funcd is gone", () => !alive(victim) || undefined);
    const down = await fleetCmd("status");
    assert.equal(down.code, 4);
    assert.match(down.stdout, /^minion02 +dead /m);
    assert.match(down.stdout, /^minion01 +running /m);
    assert.match(down.stderr, /2\/3 running; start the dead again with func-fleet restart/);
    const json = JSON.parse((await fleetCmd("status", "--json")).stdout) as { minions: { name: string; alive: boolean }[] };
    assert.deepEqual(json.minions.map((m) => [m.name, m.alive]), [["minion01", true], ["minion02", false], ["minion03", true]]);

    const restart = await fleetCmd("restart");
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stderr, /restarted 1 minion\(s\): minion02/);
    assert.notEqual(pidOf("minion02"), victim);
    const ping = await func(fleet.home, ["*", "ping"]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal((await fleetCmd("status")).code, 0);
  });

  it("restart NAME restarts a running minion; an unknown name is a usage error", async () => {
    const before = pidOf("minion01");
    const r = await fleetCmd("restart", "minion01");
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(pidOf("minion01"), before);
    await until("the old minion01 funcd is gone", () => !alive(before) || undefined);
    const bad = await fleetCmd("restart", "nosuch");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no minion nosuch in this fleet/);
  });

  it("down stops a funcd restarted by hand, by --home and by FUNC_HOME", async () => {
    const m2 = readFleet(fleet.home)!.minions.find((m) => m.name === "minion02")!;
    const m3 = readFleet(fleet.home)!.minions.find((m) => m.name === "minion03")!;
    for (const m of [m2, m3]) {
      process.kill(m.pid, "SIGKILL");
      await until(`${m.name}'s funcd is gone`, () => !alive(m.pid) || undefined);
    }
    const start = (args: string[], env: Record<string, string>) => {
      const child = spawn(process.execPath, [FUNCD_BIN, ...args], { env: { ...process.env, ...env }, detached: true, stdio: "ignore" });
      child.unref();
      byHand.push(child.pid!);
    };
    start(["--home", m2.home], {});
    start([], { FUNC_HOME: m3.home });
    await until("both answer", async () => (await func(fleet.home, ["*", "ping"])).code === 0 || undefined, 60_000);
    const st = await fleetCmd("status");
    assert.equal(st.code, 0, st.stdout);
    const r = await fleetCmd("down");
    assert.equal(r.code, 0, r.stderr);
    await until("the funcd processes started by hand are stopped", () => !byHand.some(alive) || undefined);
  });
});
