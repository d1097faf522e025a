// The `jobs` module: the status, list and purge of this minion's async jobs (Func's jobs module). These
// methods answer at once, so none of them may run as an async job itself.

import { FuncError, isJobId } from "@func/shared/core";
import type { CallContext, FuncModule, JobCaller, JobsService } from "../registry.js";

function service(ctx: CallContext): JobsService {
  if (!ctx.jobs) throw new FuncError("NoSuchMethod", "async jobs are not enabled on this minion");
  return ctx.jobs;
}

function caller(ctx: CallContext): JobCaller {
  return { cn: ctx.peerCn, role: ctx.peerRole };
}

export const jobsModule: FuncModule = {
  name: "jobs",
  description: "Async jobs on this minion: status, list, purge",
  methods: {
    job_status: {
      doc: "[code, result] of an async job: 0 RUNNING (null), 1 FINISHED (the value), 2 LOST_IN_SPACE ({reason}), 4 REMOTE_ERROR ({faultCode, faultString}).",
      example: 'func "minion01" call jobs job_status 20261122T201233-5f2a9c01b7',
      params: [{ name: "id", type: "string", doc: "the minion job id that async.<module>.<method> returned" }],
      asyncAllowed: false,
      run: (ctx, id) => {
        if (!isJobId(id)) throw new FuncError("BadArguments", "jobs.job_status: not a job id (e.g. 20261122T201233-5f2a9c01b7)");
        return service(ctx).status(id, caller(ctx));
      },
    },
    list: {
      doc: "This minion's async jobs, newest first, without results: {id, method, args, status, peer, created, finished?, pid?, overlord_job?}.",
      example: 'func "minion01" call jobs list 20',
      params: [{ name: "limit", type: "int", optional: true, doc: "most records to return (default and maximum 10000)" }],
      asyncAllowed: false,
      run: (ctx, limit) => service(ctx).list(caller(ctx), typeof limit === "number" ? limit : undefined),
    },
    purge: {
      doc: "Deletes jobs that ended more than older_than seconds ago (running jobs never); returns how many. Overlord only.",
      example: 'func "*" call jobs purge 86400',
      params: [{ name: "older_than", type: "number", doc: "seconds since the job ended" }],
      asyncAllowed: false,
      run: (ctx, olderThan) => {
        if ((olderThan as number) < 0) throw new FuncError("BadArguments", "jobs.purge: older_than must be >= 0 seconds");
        return service(ctx).purge(olderThan as number, caller(ctx));
      },
    },
  },
};
