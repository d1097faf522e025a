// Async fault cases and async soak operations (issue 6). They need the minion job store, `async.` calls,
// jobs.job_status and the overlord job store; until those are on main the campaign reports these cases as
// "not run" (never as a pass).

import { MODULES } from "@func/minion";
import type { Row } from "./case.js";
import type { SoakOp } from "./soak.js";

export interface AsyncEnv {
  subnet: number;
  quick: boolean;
  fileRoot: string;
}

export interface AsyncFaultCase {
  name: string;
}

export const ASYNC_FAULT_CASES: readonly AsyncFaultCase[] = [
  { name: "minion job store on a full disk" },
  { name: "corrupt LMDB file" },
  { name: "truncated LMDB file" },
  { name: "the overlord killed while polling" },
];

/** Whether this build has async jobs (a `jobs` module on the minion). */
export function asyncAvailable(): boolean {
  return MODULES.some((m) => m.name === "jobs");
}

export function asyncSoakOps(): readonly SoakOp[] {
  return [];
}

export function runAsyncFaultCase(c: AsyncFaultCase, _env: AsyncEnv): Promise<Row> {
  return Promise.reject(new Error(`${c.name}: async cases are not written yet`));
}
