// Per-host outcomes as data (DESIGN section 7) and the CLI exit code they add up to. Every targeted host
// ends in exactly one outcome; the fan-out, the job store and the CLI all speak this vocabulary.

import type { WireValue } from "./codec.js";
import { ERRORS, errorTypeForFault, parseFaultString, type ErrorType } from "./errors.js";

export const OUTCOMES = ["ok", "error", "denied", "unreachable", "timeout", "lost", "skipped"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface HostError {
  /** the fault code, or a local error code (ERRORS table) */
  code: number;
  /** one of the ERRORS table: a fault's own type when the table has it, else the type its code maps to */
  type: ErrorType;
  /** one line */
  message: string;
}

/** Longest HostError message kept: a peer's fault string is clipped, so one host cannot flood a report. */
export const HOST_ERROR_MESSAGE_MAX = 1000;

/** One host's result. `via` is the path of sub-overlords it came through, top first (absent: called directly). */
export type HostResult =
  | { outcome: "ok"; value: WireValue; ms?: number; via?: string[] }
  | { outcome: Exclude<Outcome, "ok">; error: HostError; ms?: number; via?: string[] };

/** Exit code bits; the CLI ORs them over every host (DESIGN section 7). */
export const EXIT = {
  OK: 0,
  /** a usage or configuration error: nothing was run */
  USAGE: 1,
  /** some host answered `error` or `denied` */
  ERROR: 2,
  /** some host was `unreachable` */
  UNREACHABLE: 4,
  /** some host hit `timeout` or was `lost` */
  TIMEOUT: 8,
  /** no minion matched the target spec */
  NO_MATCH: 16,
  /** some host's command exited non-zero: its outcome stays `ok`, the rc is in the value */
  COMMAND_FAILED: 32,
} as const;

const OUTCOME_BITS: Record<Outcome, number> = {
  ok: EXIT.OK,
  error: EXIT.ERROR,
  denied: EXIT.ERROR,
  unreachable: EXIT.UNREACHABLE,
  timeout: EXIT.TIMEOUT,
  lost: EXIT.TIMEOUT,
  // never started: `--batch --failhard` stopped after a failure, whose own bit is set too
  skipped: EXIT.ERROR,
};

export function exitCodeFor(outcomes: Iterable<Outcome>): number {
  let code = 0;
  for (const outcome of outcomes) code |= OUTCOME_BITS[outcome];
  return code;
}

/** The exit status in a command's result (`command.run`: `{ rc, stdout, stderr }`), or null for any other value. */
export function commandRc(value: unknown): number | null {
  if (!value || typeof value !== "object" || Array.isArray(value) || Buffer.isBuffer(value)) return null;
  const v = value as Record<string, unknown>;
  return typeof v.rc === "number" && "stdout" in v && "stderr" in v ? v.rc : null;
}

/** A host whose method returned a command result with a non-zero rc. */
export function commandFailed(result: HostResult): boolean {
  return result.outcome === "ok" && (commandRc(result.value) ?? 0) !== 0;
}

/** exitCodeFor, plus bit 32 when some host's command exited non-zero. */
export function exitCodeForResults(results: Iterable<HostResult>): number {
  let code = 0;
  for (const r of results) code |= OUTCOME_BITS[r.outcome] | (commandFailed(r) ? EXIT.COMMAND_FAILED : 0);
  return code;
}

export type Summary = Record<Outcome, number>;

export function emptySummary(): Summary {
  return { ok: 0, error: 0, denied: 0, unreachable: 0, timeout: 0, lost: 0, skipped: 0 };
}

export function summarize(outcomes: Iterable<Outcome>): Summary {
  const summary = emptySummary();
  for (const outcome of outcomes) summary[outcome] += 1;
  return summary;
}

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === "string" && (OUTCOMES as readonly string[]).includes(value);
}

/** Codes from here on are local: a peer's fault never names one of those types. */
const LOCAL_CODES_FROM = 100;

function isWireType(type: string): type is ErrorType {
  return Object.hasOwn(ERRORS, type) && ERRORS[type as ErrorType] < LOCAL_CODES_FROM;
}

/** The one constructor of a HostError: the code defaults to the type's; the message is one clipped line. */
export function hostError(type: ErrorType, message: string, code: number = ERRORS[type]): HostError {
  let line = String(message).replace(/\s*[\r\n]+\s*/g, " ").trim();
  if (line.length > HOST_ERROR_MESSAGE_MAX) line = `${line.slice(0, HOST_ERROR_MESSAGE_MAX)}...`;
  return { code, type, message: line };
}

/** A failed host result, built from an error type and message (the one way every HostResult failure is made). */
export function failure(outcome: Exclude<Outcome, "ok">, type: ErrorType, message: string, code?: number): HostResult {
  return { outcome, error: hostError(type, message, code) };
}

/**
 * The HostError for a fault a peer sent: its `"Type: message"` type when it is a wire type of the table, else
 * the type the fault code maps to (MethodError for codes outside the wire table), with the peer's own type
 * name kept at the head of the message.
 */
export function faultHostError(faultCode: number, faultString: string): HostError {
  const { type, message } = parseFaultString(faultString);
  if (isWireType(type)) return hostError(type, message, faultCode);
  const mapped = errorTypeForFault(faultCode);
  const byCode = ERRORS[mapped] < LOCAL_CODES_FROM ? mapped : "MethodError";
  return hostError(byCode, type === "Fault" ? message : `${type}: ${message}`, faultCode);
}

/**
 * Whether a host gave no answer at all (no connection, no reply in time, its bucket worker died): nothing is
 * known about whether the method ran, so a repeat (idempotent by job id) or a later poll may still get one.
 */
export function gotNoAnswer(result: HostResult): boolean {
  return result.outcome === "timeout" || result.outcome === "unreachable" || (result.outcome !== "ok" && result.error.type === "BucketDied");
}
