export { Overlord, type OverlordOptions, type HostEvent, type FactSelection } from "./call/overlord.js";
export { fanOut, buckets, type FanOutCall, type FanOutOptions } from "./call/fan-out.js";
export { MinionTransport, classify, type CallOptions } from "./call/transport.js";
export { listMinionNames, minionAddress, type MinionAddress } from "./call/universe.js";
export { JobEngine, type JobStatus, type JobSummary, type JobHost, type OpenHost, type WaitOptions } from "./jobs/job-engine.js";
export { deriveJobState, readStatusReply, readDispatchReply, JOB_STATE_CODE, type JobRecord, type HostState, type JobMeta, type JobState, type DispatchSettings } from "./jobs/job-state.js";
export { EventQueue } from "./call/event-queue.js";
export {
  initCa,
  loadCa,
  caFingerprint,
  signMinionCsr,
  setMinionAddress,
  listSigned,
  listSignedInfo,
  issueIdentity,
  issueMinionCert,
  listIssued,
  overlordName,
  type SignedInfo,
  type MinionRecord,
} from "./ca/ca.js";
export {
  submitCsr,
  signWaiting,
  listWaiting,
  autosignMatcher,
  MAX_WAITING_CSRS,
  MAX_WAITING_PER_SOURCE,
  CSR_TTL_S,
  type SubmitResult,
  type WaitingCsr,
  type EnrollRequest,
  type EnrollProof,
} from "./ca/enroll-queue.js";
export { revokeName, cleanName, revokedSerials, refreshCrlIfStale, CRL_DAYS, type Revoked } from "./ca/revocation.js";
export { startEnrollService, DEFAULT_RATE_LIMIT, type EnrollService, type EnrollServiceOptions, type RateLimit } from "./ca/enroll-service.js";
export { TlsSessionStore, sessionKey, MAX_TLS_SESSIONS, type SessionCache } from "./call/tls-sessions.js";
export { pushFile, type PushOptions } from "./files/push-file.js";
export { pullFile, pulledName, DEFAULT_PULL_MAX_BYTES, type PullOptions } from "./files/pull-file.js";
export { type TransferProgress } from "./files/transfer.js";
