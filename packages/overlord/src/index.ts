export { Overlord, type OverlordOptions, type HostEvent, type FactSelection } from "./call/overlord.js";
export { fanOut, buckets, type FanOutCall, type FanOutOptions } from "./call/fan-out.js";
export { MinionTransport, classify, type CallOptions } from "./call/transport.js";
export { listMinionNames, minionAddress, type MinionAddress } from "./call/universe.js";
export { JobEngine, type JobStatus, type JobSummary, type JobHost, type OpenHost, type WaitOptions } from "./jobs/job-engine.js";
export { deriveJobState, readStatusReply, readDispatchReply, JOB_STATE_CODE, type JobRecord, type HostState, type JobMeta, type JobState, type DispatchSettings } from "./jobs/job-state.js";
export { EventQueue } from "./call/event-queue.js";
export { coerceArg, coerceArgs } from "./cli/args.js";
export {
  initCa,
  loadCa,
  caFingerprint,
  submitCsr,
  signMinionCsr,
  signWaiting,
  listWaiting,
  listSigned,
  listSignedInfo,
  issueIdentity,
  listIssued,
  revokeName,
  cleanName,
  revokedSerials,
  refreshCrlIfStale,
  autosignMatcher,
  overlordName,
  MAX_WAITING_CSRS,
  CRL_DAYS,
  type SubmitResult,
  type WaitingCsr,
  type SignedInfo,
  type Revoked,
  type EnrollRequest,
  type MinionRecord,
} from "./ca/ca-store.js";
export { startEnrollService, DEFAULT_RATE_LIMIT, type EnrollService, type EnrollServiceOptions, type RateLimit } from "./ca/enroll-service.js";
export { foldNames } from "./cli/fold.js";
export { quickParse, yargsParse, type Invocation, type JobInvocation } from "./cli/main.js";
export { TlsSessionStore, sessionKey, MAX_TLS_SESSIONS, type SessionCache } from "./call/tls-sessions.js";
