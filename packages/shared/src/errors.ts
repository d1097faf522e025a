// One error root for every package: a FuncError carries a code from one table, and the XML-RPC fault
// codes (what crosses the wire) sit in the same table so a fault maps back to the same error type.

/** XML-RPC fault codes on the wire (DESIGN section 5). */
export const FAULT = {
  /** the method raised */
  METHOD_RAISED: 1,
  /** no such module or method */
  NO_SUCH_METHOD: 2,
  /** the ACL refused the caller */
  ACCESS_DENIED: 3,
  /** wrong argument count, types or values */
  BAD_ARGUMENTS: 4,
  /** a configured limit (body size, nesting, concurrent jobs, disk) was hit */
  LIMIT_EXCEEDED: 5,
  /** the request was not XML-RPC */
  NOT_XMLRPC: -32700,
} as const;
export type FaultCode = (typeof FAULT)[keyof typeof FAULT];

/**
 * Every error type the project raises or records, with its code. Codes below 100 are the wire fault codes
 * above; codes from 100 are local failures that never travel as faults; codes from 200 are per-host
 * failures the overlord records in a HostError (no answer, or an answer it could not use).
 */
export const ERRORS = {
  MethodError: FAULT.METHOD_RAISED,
  NoSuchMethod: FAULT.NO_SUCH_METHOD,
  AccessDenied: FAULT.ACCESS_DENIED,
  BadArguments: FAULT.BAD_ARGUMENTS,
  LimitExceeded: FAULT.LIMIT_EXCEEDED,
  NotXmlRpc: FAULT.NOT_XMLRPC,
  ConfigError: 101,
  UsageError: 102,
  NoMatch: 103,
  PkiError: 104,
  StoreError: 105,
  TransportError: 106,
  Timeout: 107,
  NotFound: 108,
  EnrollError: 109,
  /** the minion answered, but not with a usable XML-RPC answer (HTTP error, undecodable, over the size cap) */
  ProtocolError: 201,
  /** no TCP connection within the per-host timeout */
  ConnectTimeout: 202,
  /** the bucket worker carrying this host exited before the host was done */
  BucketDied: 203,
  /** the async dispatcher died before recording this host, and dispatching again failed */
  DispatchLost: 204,
  /** no answer to the async call after every try: the job may have started on the minion */
  DispatchTimeout: 205,
  /** an async job still open when a wait ended */
  StillRunning: 206,
  /** an async job with no final answer by the job deadline */
  JobDeadline: 207,
  /** the minion no longer knows the async job, or its runner died */
  LostInSpace: 208,
  /** func-web stopped before this host answered (the call is not sent again) */
  WebStopped: 209,
  /** the whole fan-out of a func-web call failed before this host answered */
  FanOutFailed: 210,
  /** a sub-overlord does not serve this leaf (the map above it is stale) */
  NotServed: 211,
  /** a sub-overlord answered a page of delegated results that does not decode */
  BadPage: 212,
  /** the sub-overlord carrying this leaf could not be reached while its share was open */
  SubOverlordUnreachable: 213,
  /** the sub-overlord refused to report its share (it may have run) */
  SharePollRefused: 214,
  /** something on the overlord's own side failed for this host (e.g. writing a pulled file) */
  LocalError: 215,
  /** a sub-overlord's share ended without a result for this leaf */
  MissingFromShare: 216,
  /** the sub-overlord did not answer within the share's time */
  SubOverlordTimeout: 217,
  /** a delegated share passed its deadline with this leaf still open */
  ShareDeadline: 218,
  /** the sub-overlord's share process died before reporting this leaf (it may have run) */
  ShareDied: 219,
  /** `--batch ... --failhard` stopped before starting this host (the method never ran there) */
  Skipped: 220,
} as const;
export type ErrorType = keyof typeof ERRORS;

export class FuncError extends Error {
  readonly type: ErrorType;
  readonly code: number;

  constructor(type: ErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.type = type;
    this.code = ERRORS[type];
    this.name = type;
  }

  /** The fault string on the wire: `"<ErrorType>: <message>"`. */
  get faultString(): string {
    return `${this.type}: ${this.message}`;
  }
}

/** The error type a fault code maps back to (MethodError for codes we do not know). */
export function errorTypeForFault(code: number): ErrorType {
  for (const [type, c] of Object.entries(ERRORS)) if (c === code) return type as ErrorType;
  return "MethodError";
}

/** Splits a fault string `"Type: message"` into its parts; a string without a type prefix keeps it whole. */
export function parseFaultString(faultString: string): { type: string; message: string } {
  const m = /^([A-Za-z_][\w.]*): ([\s\S]*)$/.exec(faultString);
  return m ? { type: m[1]!, message: m[2]! } : { type: "Fault", message: faultString };
}

/** Any thrown value as a FuncError (keeping the original as cause). */
export function toFuncError(err: unknown, type: ErrorType = "MethodError"): FuncError {
  if (err instanceof FuncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FuncError(type, message, { cause: err });
}

/** What to do about the system errors a command meets most, by errno code. */
const SYSTEM_HINTS: Record<string, string> = {
  EADDRINUSE: "the address is in use (another funcd, or one left running: stop it, or set another listen_port)",
  EADDRNOTAVAIL: "no interface here has that address (set listen_addr, or add the address)",
  EACCES: "permission denied (ports below 1024 and other users' files need root)",
  EPERM: "operation not permitted (run as root?)",
  ENOSPC: "no space left on the device (free some and try again)",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files (raise the limit: ulimit -n)",
  ENOENT: "no such file or directory",
};

/**
 * The one line a command prints for an error that ends it: a FuncError's message; a system error as what
 * failed and what to do (`listen EADDRINUSE: address already in use 127.0.0.2:51234` -> `cannot listen on
 * 127.0.0.2:51234: the address is in use (...)`); anything else as an internal error to report. Never a stack.
 */
export function errorLine(err: unknown): string {
  if (err instanceof FuncError) return err.message;
  const e = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown; path?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const hint = SYSTEM_HINTS[code];
  if (hint !== undefined) {
    const where = typeof e.address === "string" ? `${e.address}${typeof e.port === "number" ? `:${e.port}` : ""}` : typeof e.path === "string" ? e.path : "";
    const what = typeof e.syscall === "string" ? `cannot ${e.syscall}${where ? ` ${e.syscall === "listen" || e.syscall === "bind" ? "on " : ""}${where}` : ""}` : where || "failed";
    return `${what}: ${hint}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `internal error: ${message.split("\n")[0]} (a bug: please report it with the command line)`;
}
