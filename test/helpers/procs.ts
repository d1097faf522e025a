// Test helper: long-running bins (func-ca serve, funcd) as real child processes, with their output captured,
// a wait for a line of it, and a stop that ends exactly the process it started.

import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

export interface Proc {
  child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  /** resolves with the first match of `re` in the output; rejects on timeout or when the process exits first */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** resolves with the exit code (or 128 for a signal) */
  exited: Promise<number>;
  stop(): Promise<void>;
}

export function startBin(bin: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  let done = false;
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => {
      done = true;
      resolve(code ?? (signal ? 128 : -1));
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    async waitFor(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (done) throw new Error(`process exited before ${re} appeared; output:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output:\n${out}`);
        await sleep(50);
      }
    },
    async stop() {
      if (done) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!killed) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Polls `check` until it returns true (or the time runs out: then false). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
