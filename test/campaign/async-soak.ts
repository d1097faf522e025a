// Async operations for the soak (issue 6): each starts a job on every minion through the Overlord API and
// waits for it, handing back each host as the API reported it (a host reported twice shows up twice). Once
// the soak is over, every minion must hold exactly one job per overlord job: none lost, none run twice.

import type { Overlord } from "@func/overlord";
import { encodeCall, type HostResult } from "@func/shared";
import type { CampaignFleet } from "./campaign-fleet.js";
import { rawCall } from "./probe.js";
import type { SoakOp } from "./soak.js";

/** How long one async operation may take to finish on every host, ms. */
const WAIT_MS = 60_000;
/** Poll interval for the soak's waits, ms: short, so async operations do not hog the in-flight slots. */
const POLL_MS = 200;
/** Most minion job records read back per minion at the end. */
const LIST_LIMIT = 10_000;

async function runJob(o: Overlord, module: string, method: string, args: unknown[], started: Set<string>): Promise<[string, HostResult][]> {
  const id = await o.callAsync(module, method, args);
  started.add(id);
  const reported: [string, HostResult][] = [];
  const st = await o.waitJob(id, { timeoutMs: WAIT_MS, intervalMs: POLL_MS, onHost: (host, result) => reported.push([host, result]) });
  // hosts still open at the timeout are reported as timeouts (the soak counts them, they are not lost)
  for (const [host, h] of Object.entries(st.hosts)) {
    if (!h.final && !reported.some(([r]) => r === host)) {
      reported.push([host, { outcome: "timeout", error: { code: 0, type: "StillRunning", message: `job ${id} still open after ${WAIT_MS} ms` } }]);
    }
  }
  return reported;
}

export function asyncSoakOps(): { ops: readonly SoakOp[]; finalCheck(fleet: CampaignFleet): Promise<string[]> } {
  const started = new Set<string>();
  const ops: SoakOp[] = [
    {
      name: "async echo",
      forks: 1,
      run: (o, seq) => runJob(o, "test", "echo", [{ seq, async: true }], started),
      check: (v, seq) => (v as { seq?: unknown } | null)?.seq === seq,
    },
    {
      name: "async command",
      forks: 1,
      run: (o, seq) => runJob(o, "command", "run", [`echo async-${seq}`], started),
      check: (v, seq) => (v as { stdout?: unknown } | null)?.stdout === `async-${seq}\n`,
    },
  ];
  return {
    ops,
    async finalCheck(fleet) {
      const problems: string[] = [];
      for (let i = 0; i < fleet.minions.length; i++) {
        const r = await rawCall(fleet.target(i), fleet.overlord, { body: encodeCall("jobs.list", [LIST_LIMIT]) });
        if (r.kind !== "ok" || !Array.isArray(r.value)) {
          problems.push(`${fleet.minion(i).name}: jobs.list failed`);
          continue;
        }
        const counts = new Map<string, number>();
        for (const j of r.value as { overlord_job?: string }[]) if (j.overlord_job && started.has(j.overlord_job)) counts.set(j.overlord_job, (counts.get(j.overlord_job) ?? 0) + 1);
        const missing = [...started].filter((id) => !counts.has(id));
        const twice = [...counts].filter(([, n]) => n > 1);
        if (missing.length) problems.push(`${fleet.minion(i).name} has no record of ${missing.length} of ${started.size} async jobs (e.g. ${missing[0]})`);
        if (twice.length) problems.push(`${fleet.minion(i).name} ran ${twice.length} async jobs more than once (e.g. ${twice[0]![0]} x${twice[0]![1]})`);
      }
      return problems;
    },
  };
}
