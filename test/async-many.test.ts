// Many async jobs at once: 20 jobs submitted together to a real 5-minion fleet, each with its own
// arguments, so that every one of the 100 results can be checked, none missing and none mixed up.

import assert from "node:assert/strict";
import { isJobId } from "@func/shared";
import { Overlord } from "@func/overlord";
import { startFleet, type TestFleet } from "./helpers/fleet.js";

const JOBS = 20;

describe("20 async jobs at once on a 5-minion fleet", function () {
  this.timeout(60_000);
  let fleet: TestFleet;

  before(async () => {
    fleet = await startFleet("amany", 23, 5);
  });
  after(async () => {
    await fleet?.stop();
  });

  it("all 100 results are present and correct, each from its own minion job", async () => {
    const o = new Overlord("*", { home: fleet.home });
    try {
      const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => o.callAsync("test", "add", [i, 1000])));
      assert.equal(new Set(ids).size, JOBS);
      const done = await Promise.all(ids.map((id) => o.waitJob(id, { timeoutMs: 50_000 })));
      const minionJobs = new Set<string>();
      done.forEach((st, i) => {
        assert.equal(st.status, "FINISHED", `job ${i}: ${JSON.stringify(st.summary)}`);
        assert.equal(Object.keys(st.hosts).length, 5);
        for (const [host, h] of Object.entries(st.hosts)) {
          assert.deepEqual([h.outcome, h.outcome === "ok" && h.value], ["ok", i + 1000], `job ${i} on ${host}: ${JSON.stringify(h)}`);
          assert.ok(isJobId(h.minionJobId));
          minionJobs.add(`${host}/${h.minionJobId}`);
        }
      });
      assert.equal(minionJobs.size, JOBS * 5);
      const listed = await o.listJobs({ limit: JOBS });
      assert.deepEqual(new Set(listed.map((j) => j.id)), new Set(ids));
      assert.ok(listed.every((j) => j.status === "FINISHED" && j.summary.ok === 5));
    } finally {
      await o.close();
    }
  });
});
