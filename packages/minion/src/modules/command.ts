// The `command` module: run a shell command with shell semantics, a timeout that kills the whole process
// tree, and stdout/stderr each capped, so one runaway command cannot take the minion's memory.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { COMMAND } from "@func/shared/core";
import { implement, type CallContext } from "../registry.js";

/** Grace between SIGTERM and SIGKILL when a command times out. */
const KILL_GRACE_MS = 2000;
/** Marker appended to output that was cut at the cap. */
export const TRUNCATED_MARKER = "\n[func: output truncated]\n";

interface RunOptions {
  timeout?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/** Collects a stream up to `cap` bytes, counting what was dropped. */
class CappedBuffer {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  dropped = 0;
  constructor(readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.#size;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(kept);
    this.#size += kept.length;
    this.dropped += chunk.length - kept.length;
  }
  text(): string {
    const s = Buffer.concat(this.#chunks).toString("utf8");
    return this.dropped > 0 ? s + TRUNCATED_MARKER : s;
  }
}

export async function runCommand(
  ctx: Pick<CallContext, "config" | "signal">,
  cmd: string,
  options: RunOptions = {},
): Promise<{ rc: number; stdout: string; stderr: string; timed_out: boolean; truncated: boolean }> {
  const timeoutS = options.timeout ?? ctx.config.commandTimeoutS;
  const cap = ctx.config.commandOutputCap;
  const child = spawn("/bin/sh", ["-c", cmd], {
    // own process group, so a timeout kills everything the command started
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd ?? "/",
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  const out = new CappedBuffer(cap);
  const err = new CappedBuffer(cap);
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  let timedOut = false;
  const killTree = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    timedOut = true;
    killTree("SIGTERM");
    graceTimer = setTimeout(() => killTree("SIGKILL"), KILL_GRACE_MS);
  };
  const timer = setTimeout(stop, timeoutS * 1000);
  const onAbort = () => stop();
  ctx.signal?.addEventListener("abort", onAbort, { once: true });
  const rc = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : -1)));
  }).finally(() => {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    ctx.signal?.removeEventListener("abort", onAbort);
    // children that outlived the shell and still hold the pipes are not ours to keep
    killTree("SIGKILL");
  });
  return {
    rc,
    stdout: out.text(),
    stderr: err.text() + (timedOut ? `[func: killed after ${timeoutS}s timeout]\n` : ""),
    timed_out: timedOut,
    truncated: out.dropped > 0 || err.dropped > 0,
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}

export const commandModule = implement(COMMAND, {
  run: (ctx, cmd, options) => runCommand(ctx, cmd, options ?? {}),
  exists: (_ctx, path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
});
