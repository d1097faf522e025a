// A forked bucket worker that dies mid-run: its unfinished hosts come back as `error` with the reason,
// the other bucket's hosts finish normally, and no host is missing or doubled.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Overlord } from "@func/overlord";
import type { HostResult } from "@func/shared";
import { startFleet, type TestFleet } from "./helpers/fleet.js";

function forkedChildren(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes("bucket-worker"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe("bucket worker death", function () {
  this.timeout(90_000);
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet("buckets", 13, 4);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("turns the dead bucket's unfinished hosts into errors, never missing ones", async () => {
    const o = new Overlord("*", { home: fleet.home, forks: 2, timeout: 20 });
    const results: Record<string, HostResult[]> = {};
    const minions = o.addresses();
    const done = o.fanOut(minions, { method: "test.sleep", params: [3], timeoutMs: 20_000 }, (h, r) => (results[h] ??= []).push(r));
    let workers: number[] = [];
    for (let i = 0; i < 50 && workers.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workers = forkedChildren();
    }
    assert.equal(workers.length, 2, "two bucket workers forked");
    process.kill(workers[0]!, "SIGKILL");
    await done;
    o.close();
    assert.deepEqual(Object.keys(results).sort(), fleet.minions.map((m) => m.name).sort());
    for (const rs of Object.values(results)) assert.equal(rs.length, 1, "each host exactly once");
    const outcomes = Object.values(results).map((rs) => rs[0]!);
    const died = outcomes.filter((r) => r.outcome === "error");
    assert.equal(died.length, 2, JSON.stringify(results));
    for (const r of died) assert.match(r.outcome === "error" ? r.error.message : "", /bucket worker \d+ exited \(SIGKILL\)/);
    assert.equal(outcomes.filter((r) => r.outcome === "ok").length, 2);
  });
});
