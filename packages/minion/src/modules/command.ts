// The `command` module: run a shell command with shell semantics, a timeout that kills the whole process
// tree, and stdout/stderr each capped, so one runaway command cannot take the minion's memory.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import type { WireValue } from "@func/shared";
import { FuncError } from "@func/shared/core";
import type { CallContext, FuncModule } from "../registry.js";

/** Grace between SIGTERM and SIGKILL when a command times out. */
const KILL_GRACE_MS = 2000;
/** Marker appended to output that was cut at the cap. */
export const TRUNCATED_MARKER = "\n[func: output truncated]\n";

interface RunOptions {
  timeout?: number;
  env?: Record<string, string>;
  cwd?: string;
}

function parseOptions(value: WireValue | undefined): RunOptions {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw new FuncError("BadArguments", "command.run: options must be a struct {timeout, env, cwd}");
  }
  const opts: RunOptions = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "timeout" && typeof v === "number" && v > 0) opts.timeout = v;
    else if (k === "cwd" && typeof v === "string") opts.cwd = v;
    else if (k === "env" && v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      const env: Record<string, string> = {};
      for (const [name, val] of Object.entries(v)) {
        if (typeof val !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          throw new FuncError("BadArguments", `command.run: env ${name} must be a string with a valid name`);
        }
        env[name] = val;
      }
      opts.env = env;
    } else throw new FuncError("BadArguments", `command.run: unknown or bad option "${k}"`);
  }
  return opts;
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

export const commandModule: FuncModule = {
  name: "command",
  description: "Run shell commands",
  methods: {
    run: {
      doc: "Runs cmd with /bin/sh -c; returns {rc, stdout, stderr, timed_out, truncated}. options: {timeout, env, cwd}.",
      example: 'func "web*" call command run "uname -r"',
      params: [
        { name: "cmd", type: "string" },
        { name: "options", type: "struct", optional: true },
      ],
      run: (ctx, cmd, options) => runCommand(ctx, cmd as string, parseOptions(options)),
    },
    exists: {
      doc: "True when path exists and is executable.",
      example: 'func "*" call command exists /usr/bin/python3',
      params: [{ name: "path", type: "string" }],
      run: (_ctx, path) => {
        try {
          accessSync(path as string, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      },
    },
  },
};
