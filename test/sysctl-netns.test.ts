// sysctl.set against a real funcd that runs inside a network namespace this test makes: net.* keys are per
// namespace, so the write changes nothing outside it, and the namespace is removed after. Needs root and ip.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fleetFile, funcdArgs, readFleet } from "@func/overlord/fleet";
import { FUNC_BIN, startFleet, type RunResult, type TestFleet } from "./helpers/fleet.js";
import { eventually } from "./helpers/procs.js";

const NS = `func-sysctl-${process.pid}`;
const KEY = "net.ipv4.ip_forward";

/** The real CLI, run inside the namespace (the minion's loopback address is only there). */
function funcIn(home: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", NS, process.execPath, FUNC_BIN, ...args], { env: { ...process.env, FUNC_HOME: home, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function hostValue(): string {
  return execFileSync("cat", [`/proc/sys/${KEY.replace(/\./g, "/")}`]).toString().trim();
}

describe("sysctl.set inside a network namespace of its own", function () {
  this.timeout(120_000);
  let fleet: TestFleet | undefined;
  let made = false;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // namespaces and /proc/sys writes need root (CI runs as root)
    try {
      execFileSync("ip", ["netns", "add", NS], { stdio: "ignore" });
      made = true;
      execFileSync("ip", ["netns", "exec", NS, "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
    } catch {
      this.skip(); // no iproute2 or no CAP_SYS_ADMIN here
    }
    fleet = await startFleet("sysctl", 134, 1);
    // the fleet's funcd is replaced by one inside the namespace, on the same home and address
    const m = fleet.minions[0]!;
    process.kill(m.pid, "SIGTERM");
    const child = spawn("ip", ["netns", "exec", NS, process.execPath, ...funcdArgs([m.home])], { detached: true, stdio: "ignore" });
    child.unref();
    const state = readFleet(fleet.home)!;
    state.pids.push(child.pid!);
    writeFileSync(fleetFile(fleet.home), JSON.stringify(state, null, 2) + "\n");
    assert.ok(await eventually(async () => (await funcIn(fleet!.home, ["minion01", "ping", "-t", "2"])).code === 0, 30_000), "funcd answers inside the namespace");
  });
  after(async () => {
    await fleet?.stop();
    if (made) execFileSync("ip", ["netns", "delete", NS], { stdio: "ignore" });
  });

  it("writes a net.* key through /proc/sys and reads it back; the host's own value is untouched", async () => {
    const outside = hostValue();
    const want = outside === "1" ? "0" : "1";
    const set = await funcIn(fleet!.home, ["minion01", "call", "sysctl", "set", KEY, want, "--json"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(set.stdout).hosts.minion01.value, want);
    const get = await funcIn(fleet!.home, ["minion01", "call", "sysctl", "get", KEY, "--json"]);
    assert.equal(JSON.parse(get.stdout).hosts.minion01.value, want);
    assert.equal(hostValue(), outside, "the namespace's key, not the host's");
  });

  it("a value the kernel refuses is fault 4; a key outside /proc/sys is refused before anything runs", async () => {
    const r = await funcIn(fleet!.home, ["minion01", "call", "sysctl", "set", KEY, "banana", "--json"]);
    const res = JSON.parse(r.stdout).hosts.minion01;
    assert.equal(res.outcome, "error");
    assert.equal(res.error.code, 4, JSON.stringify(res));
    const bad = await funcIn(fleet!.home, ["minion01", "call", "sysctl", "set", "../../../etc/hostname", "x"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /sysctl\.set: argument 1 \(key\) must be a string matching/);
  });
});
