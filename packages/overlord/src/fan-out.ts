// Hosts -> buckets -> calls (DESIGN section 10). Hosts are dealt round-robin into `forks` buckets; one
// bucket runs in this process, more are forked workers that stream each host's result back over IPC as it
// finishes. A worker that dies turns its unfinished hosts into `error` outcomes: no host is ever missing.

import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HostResult } from "@func/shared";
import type { MinionAddress } from "./minions.js";
import { MinionTransport, type TlsIdentity } from "./transport.js";

export interface FanOutCall {
  method: string;
  params: readonly unknown[];
  /** params for particular hosts instead of `params` (polling asks each host about its own job id) */
  perHostParams?: Readonly<Record<string, readonly unknown[]>>;
  timeoutMs: number;
  headers?: Record<string, string>;
}

export interface FanOutOptions {
  identity: TlsIdentity;
  /** buckets; 1 runs in this process */
  forks: number;
  /** calls in flight at once per bucket */
  concurrency: number;
  /** reuse a transport for the in-process bucket (warm API calls keep their connections) */
  transport?: MinionTransport;
}

export type OnResult = (name: string, result: HostResult) => void;

/** Messages a bucket worker sends to its parent. */
export type WorkerMessage = { type: "result"; name: string; result: HostResult } | { type: "done" };
/** The one message a bucket worker receives. */
export interface WorkerTask {
  minions: MinionAddress[];
  call: FanOutCall;
  identity: TlsIdentity;
  concurrency: number;
}

/** Deals hosts round-robin into at most `forks` non-empty buckets. */
export function buckets<T>(items: readonly T[], forks: number): T[][] {
  const n = Math.max(1, Math.min(Math.floor(forks), items.length));
  const out: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => out[i % n]!.push(item));
  return out;
}

/** Runs one bucket in this process with at most `concurrency` calls in flight. */
export async function runBucket(
  transport: MinionTransport,
  minions: readonly MinionAddress[],
  call: FanOutCall,
  concurrency: number,
  onResult: OnResult,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < minions.length) {
      const minion = minions[next++]!;
      const params = call.perHostParams && Object.hasOwn(call.perHostParams, minion.name) ? call.perHostParams[minion.name]! : call.params;
      const result = await transport.call(minion, call.method, params, { timeoutMs: call.timeoutMs, ...(call.headers ? { headers: call.headers } : {}) });
      onResult(minion.name, result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, minions.length)) }, lane));
}

const WORKER_PATH = fileURLToPath(new URL("./bucket-worker.js", import.meta.url));

function runForkedBucket(minions: MinionAddress[], call: FanOutCall, opts: FanOutOptions, onResult: OnResult): Promise<void> {
  return new Promise((resolve) => {
    const pending = new Set(minions.map((m) => m.name));
    const child = fork(WORKER_PATH, [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString("utf8");
    });
    child.on("message", (msg: WorkerMessage) => {
      if (msg.type === "result" && pending.delete(msg.name)) onResult(msg.name, msg.result);
      else if (msg.type === "done") child.disconnect();
    });
    child.on("exit", (code, signal) => {
      const why = `bucket worker ${child.pid} exited (${signal ?? `code ${code}`}) before this host was done` + (stderr ? `: ${stderr.trim().split("\n").pop()}` : "");
      for (const name of pending) onResult(name, { outcome: "error", error: { code: 0, type: "BucketDied", message: why } });
      pending.clear();
      resolve();
    });
    child.on("error", () => {
      // 'exit' follows and accounts for every pending host
    });
    const task: WorkerTask = { minions, call, identity: opts.identity, concurrency: opts.concurrency };
    child.send(task);
  });
}

/** Fans one call out to every minion; `onResult` sees each host exactly once, as it finishes. */
export async function fanOut(minions: readonly MinionAddress[], call: FanOutCall, opts: FanOutOptions, onResult: OnResult): Promise<void> {
  if (minions.length === 0) return;
  const groups = buckets(minions, opts.forks);
  if (groups.length === 1) {
    const transport = opts.transport ?? new MinionTransport(opts.identity);
    try {
      await runBucket(transport, minions, call, opts.concurrency, onResult);
    } finally {
      if (!opts.transport) transport.close();
    }
    return;
  }
  await Promise.all(groups.map((group) => runForkedBucket(group, call, opts, onResult)));
}
