// A forked bucket worker that dies mid-run: its unfinished hosts come back as `error` with the reason,
// the other bucket's hosts finish normally, and no host is missing or doubled.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Overlord, buckets } from "@func/overlord";
import type { HostResult } from "@func/shared";
import { startFleet, type TestFleet } from "./helpers/fleet.js";

function forkedChildren(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes("bucket-worker"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe("buckets", () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => i);
  it("deals hosts round-robin into at most `forks` buckets of at least `minPerBucket` hosts", () => {
    assert.deepEqual(buckets(hosts(5), 2), [[0, 2, 4], [1, 3]]);
    assert.equal(buckets(hosts(10), 2, 64).length, 1);
    assert.equal(buckets(hosts(127), 2, 64).length, 1);
    assert.equal(buckets(hosts(128), 2, 64).length, 2);
    assert.equal(buckets(hosts(1000), 4, 64).length, 4);
    assert.equal(buckets(hosts(3), 8).length, 3);
    assert.deepEqual(buckets([], 3), [[]]);
    for (const [n, f, m] of [[500, 3, 64], [7, 7, 2], [1, 5, 1]] as const) {
      assert.deepEqual(buckets(hosts(n), f, m).flat().sort((a, b) => a - b), hosts(n), "every host exactly once");
    }
  });
});

describe("bucket worker death", function () {
  this.timeout(90_000);
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet("buckets", 13, 6);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("turns the dead bucket's unfinished hosts into errors, never missing ones", async () => {
    // 6 hosts in 3 buckets of 2: one in this process, two in forked workers
    const o = new Overlord("*", { home: fleet.home, forks: 3, bucketMinHosts: 1, timeout: 20 });
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
    await o.close();
    assert.deepEqual(Object.keys(results).sort(), fleet.minions.map((m) => m.name).sort());
    for (const rs of Object.values(results)) assert.equal(rs.length, 1, "each host exactly once");
    const outcomes = Object.values(results).map((rs) => rs[0]!);
    const died = outcomes.filter((r) => r.outcome === "error");
    assert.equal(died.length, 2, JSON.stringify(results));
    for (const r of died) assert.match(r.outcome === "error" ? r.error.message : "", /bucket worker \d+ exited \(SIGKILL\)/);
    assert.equal(outcomes.filter((r) => r.outcome === "ok").length, 4);
  });

  it("forks no worker for a fan-out smaller than bucket_min_hosts, and one fewer than --forks otherwise", async () => {
    const seen = async (o: Overlord): Promise<number> => {
      let most = 0;
      const done = o.call("test", "sleep", [1]);
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 100));
        most = Math.max(most, forkedChildren().length);
      }
      const results = await done;
      await o.close();
      assert.equal(Object.values(results).filter((r) => r.outcome === "ok").length, 6, JSON.stringify(results));
      return most;
    };
    assert.equal(await seen(new Overlord("*", { home: fleet.home, forks: 4, timeout: 20 })), 0, "6 hosts < 64 per bucket: all in-process");
    assert.equal(await seen(new Overlord("*", { home: fleet.home, forks: 4, bucketMinHosts: 3, timeout: 20 })), 1, "6 hosts, 3 per bucket: 2 buckets");
  });
});
