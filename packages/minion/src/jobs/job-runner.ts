// The body of an async job runner: a short-lived detached child of funcd (bin/job-runner.ts) that reads the
// job funcd spooled for it, runs the method with a context rebuilt from it, and writes FINISHED or
// REMOTE_ERROR (the result bounded by async_result_cap) to its result file, on disk before it exits.

import type { HomePaths, WireValue } from "@func/shared";
import { JOB_STATUS } from "@func/shared/core";
import { readJobFile, writeResultFile, type SpooledJob, type SpooledResult } from "./job-spool.js";
import { MODULES } from "../modules/index.js";
import { Registry, faultFor, type CallContext } from "../registry.js";
import { capResult } from "./result-cap.js";

/** Runs job `id` of the minion whose home is `paths`; resolves to the process exit code. */
export async function runJob(id: string, paths: HomePaths, log: (message: string) => void): Promise<number> {
  let job: SpooledJob | undefined;
  try {
    job = readJobFile(paths.runDir, id);
  } catch (err) {
    // a job file this runner cannot read (a newer format): one line in the runner log, and no result
    log(`job ${id}: ${(err as Error).message}`);
    return 1;
  }
  if (!job) {
    log(`job ${id}: no job file in ${paths.runDir}, nothing to do`);
    return 1;
  }
  const registry = new Registry(MODULES);
  const ctx: CallContext = {
    peerCn: job.peerCn,
    peerRole: job.peerRole,
    address: job.address,
    config: job.config,
    paths,
    registry,
    jobId: id,
  };
  let outcome: SpooledResult;
  try {
    const method = registry.lookup(job.method);
    const args = registry.checkArgs(job.method, method, job.args);
    const value: WireValue = await method.run(ctx, ...args);
    outcome = { status: JOB_STATUS.FINISHED, result: capResult(value, job.config.asyncResultCap).value };
  } catch (err) {
    const fault = faultFor(err);
    outcome = { status: JOB_STATUS.REMOTE_ERROR, result: { faultCode: fault.code, faultString: fault.text } };
  }
  writeResultFile(paths.runDir, id, outcome);
  return 0;
}
