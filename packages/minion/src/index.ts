export { MinionServer, ASYNC_PREFIX, IDEMPOTENCY_HEADER, faultFor, type MinionServerOptions, type TlsMaterial, type AsyncStarter } from "./server.js";
export { Registry, signature, type CallContext, type FuncModule, type JobsService, type JobCaller, type MethodSpec, type ParamSpec, type ParamType } from "./registry.js";
export { MODULES } from "./modules/index.js";
export { Acl, parseAcl, OVERLORD_ROLE } from "./acl.js";
export { startMinion, type StartedMinion } from "./daemon.js";
export { AsyncJobs, RUNNER_PATH, type AsyncJobsOptions } from "./async-jobs.js";
export { MinionJobStore, type MinionJob, type MinionJobCode, type RunSpec, type BeginResult } from "./job-store.js";
export { capResult, valueSize, RESULT_CUT_MARKER } from "./result-cap.js";
