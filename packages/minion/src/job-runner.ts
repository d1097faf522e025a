// The body of an async job runner: a short-lived detached child of funcd (bin/job-runner.ts) that loads
// the job from the store, runs the method with a context rebuilt from the record, stores FINISHED or
// REMOTE_ERROR (the result bounded by async_result_cap) and waits for the write to reach the disk.

import { JOB_STATUS, type HomePaths, type WireValue } from "@func/shared";
import { MinionJobStore } from "./job-store.js";
import { MODULES } from "./modules/index.js";
import { Registry, type CallContext } from "./registry.js";
import { capResult } from "./result-cap.js";
import { faultFor } from "./server.js";

/** Runs job `id` of the minion whose home is `paths`; resolves to the process exit code. */
export async function runJob(id: string, paths: HomePaths, log: (message: string) => void): Promise<number> {
  const store = new MinionJobStore(paths.minionJobsDir);
  try {
    const job = store.get(id);
    const spec = store.runSpec(id);
    if (!job || job.status !== JOB_STATUS.RUNNING || !spec) {
      log(`job ${id}: not a running job here, nothing to do`);
      return 0;
    }
    const registry = new Registry(MODULES);
    const ctx: CallContext = {
      peerCn: job.peerCn,
      peerRole: job.peerRole,
      address: job.address,
      config: spec.config,
      paths,
      registry,
      jobId: id,
    };
    let status: typeof JOB_STATUS.FINISHED | typeof JOB_STATUS.REMOTE_ERROR;
    let result: WireValue;
    try {
      const method = registry.lookup(job.method);
      registry.checkArgs(job.method, method, job.args);
      result = capResult(await method.run(ctx, ...job.args), spec.config.asyncResultCap).value;
      status = JOB_STATUS.FINISHED;
    } catch (err) {
      const fault = faultFor(err);
      result = { faultCode: fault.code, faultString: fault.text };
      status = JOB_STATUS.REMOTE_ERROR;
    }
    store.finish(id, status, result);
    await store.flushed();
    return 0;
  } finally {
    await store.close();
  }
}
