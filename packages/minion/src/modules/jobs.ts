// The `jobs` module: the status, list and purge of this minion's async jobs (Func's jobs module). These
// methods answer at once, so none of them may run as an async job itself.

import { FuncError, isJobId, JOBS } from "@func/shared/core";
import { implement, type CallContext, type JobCaller, type JobsService } from "../registry.js";

function service(ctx: CallContext): JobsService {
  if (!ctx.jobs) throw new FuncError("NoSuchMethod", "async jobs are not enabled on this minion");
  return ctx.jobs;
}

function caller(ctx: CallContext): JobCaller {
  return { cn: ctx.peerCn, role: ctx.peerRole };
}

export const jobsModule = implement(JOBS, {
  job_status: (ctx, id) => {
    if (!isJobId(id)) throw new FuncError("BadArguments", "jobs.job_status: not a job id (e.g. 20261122T201233-5f2a9c01b7)");
    return service(ctx).status(id, caller(ctx));
  },
  list: (ctx, limit) => service(ctx).list(caller(ctx), limit),
  purge: (ctx, olderThan) => service(ctx).purge(olderThan, caller(ctx)),
});
