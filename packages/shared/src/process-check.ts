// Is a job's runner (minion) or dispatcher (overlord) still alive? A pid alone is not enough: pids are
// reused, so the process must also carry the job id on its command line.

import { existsSync, readFileSync } from "node:fs";

const HAVE_PROC = existsSync("/proc/self/cmdline");

/**
 * True when `pid` is alive AND its command line contains `marker` (a job id): a pid reused by another
 * process, or a zombie, does not count. Without /proc only the pid is checked.
 */
export function processRunning(pid: number | undefined | null, marker: string): boolean {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is another user's; its command line decides
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!HAVE_PROC) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.includes(marker));
  } catch {
    return false;
  }
}
