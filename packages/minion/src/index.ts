export { MinionServer, ASYNC_PREFIX, IDEMPOTENCY_HEADER, type MinionServerOptions, type TlsMaterial, type AsyncStarter } from "./server.js";
export { Registry, signature, type CallContext, type FuncModule, type MethodSpec, type ParamSpec, type ParamType } from "./registry.js";
export { MODULES } from "./modules/index.js";
export { Acl, parseAcl, OVERLORD_ROLE } from "./acl.js";
export { startMinion, type StartedMinion, type StartMinionExtra } from "./daemon.js";
export { EnrollClient, EnrollClientPool, isTransient, type EnrollTarget, type EnrollTrust } from "./enroll-client.js";
export { enrollMinion, backoffDelay, advertisedAddress, ENROLL_POLL_START_MS, ENROLL_POLL_MAX_MS, type EnrollOptions, type Enrolled } from "./enroll.js";
export { CrlRefresher, type CrlRefresherOptions, type RefreshOutcome } from "./crl-refresh.js";
