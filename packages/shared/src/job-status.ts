// Func's job status codes, kept on the wire (DESIGN section 6), and job ids shared by both stores.

import { randomBytes } from "node:crypto";

export const JOB_STATUS = {
  RUNNING: 0,
  FINISHED: 1,
  LOST_IN_SPACE: 2,
  /** overlord only: every host has a minion job id or a final outcome, some are still open */
  PARTIAL: 3,
  /** finished, and the method raised: the result is the fault struct */
  REMOTE_ERROR: 4,
} as const;
export type JobStatusCode = (typeof JOB_STATUS)[keyof typeof JOB_STATUS];

export const JOB_STATUS_NAMES: Record<JobStatusCode, string> = {
  0: "RUNNING",
  1: "FINISHED",
  2: "LOST_IN_SPACE",
  3: "PARTIAL",
  4: "REMOTE_ERROR",
};

/** Random part of a job id: 5 bytes (10 hex chars) so ids made in the same second do not collide. */
const JOB_ID_RANDOM_BYTES = 5;
const JOB_ID_RE = /^\d{8}T\d{6}-[0-9a-f]{10}$/;

/**
 * A job id: UTC creation time to the second, then a random suffix, e.g. `20261122T201233-5f2a9c01b7`.
 * Sorts by creation time, needs no coordination, and is shell- and URL-safe.
 */
export function newJobId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `${stamp}-${randomBytes(JOB_ID_RANDOM_BYTES).toString("hex")}`;
}

export function isJobId(value: unknown): value is string {
  return typeof value === "string" && JOB_ID_RE.test(value);
}

/** Method prefix that turns a call into a background job on the minion (`async.test.sleep`). */
export const ASYNC_METHOD_PREFIX = "async.";
/**
 * HTTP header carrying the overlord's job id with an `async.` call: the minion keys idempotency on it, so a
 * repeated dispatch (a dispatcher that died and was resumed) gets the existing minion job, never a second run.
 */
export const JOB_ID_HEADER = "x-func-job";
