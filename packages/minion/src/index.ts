export { MinionServer, ASYNC_PREFIX, IDEMPOTENCY_HEADER, type MinionServerOptions, type TlsMaterial, type AsyncStarter } from "./server.js";
export { Registry, signature, type CallContext, type FuncModule, type MethodSpec, type ParamSpec, type ParamType } from "./registry.js";
export { MODULES } from "./modules/index.js";
export { Acl, parseAcl, OVERLORD_ROLE } from "./acl.js";
export { startMinion, type StartedMinion } from "./daemon.js";
