// Starting a Node process that outlives its parent (DESIGN section 3): the minion's async job runners, the
// overlord's async dispatcher and the local fleet's funcd processes all start this one way: their own session
// (a signal to the parent's process group does not reach them), stdout and stderr appended to a log file
// (0600), and unref'd, so the parent may exit first.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

export interface DetachedOptions {
  /** where the child's stdout and stderr go (appended; its directory is made 0700 if missing) */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts `node ...nodeArgs` detached and returns the child (its `exit` event still fires while this process
 * lives). Throws when the process could not be started at all.
 */
export function spawnDetached(nodeArgs: readonly string[], opts: DetachedOptions): ChildProcess & { pid: number } {
  mkdirSync(dirname(opts.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(opts.logFile, "a", 0o600);
  try {
    const child = spawn(process.execPath, nodeArgs, {
      detached: true,
      stdio: ["ignore", fd, fd],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    // a failed start also emits 'error' (pid undefined): the throw below reports it, this keeps it from crashing
    child.on("error", () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${nodeArgs.join(" ").slice(0, 120)}`);
    return child as ChildProcess & { pid: number };
  } finally {
    closeSync(fd);
  }
}
