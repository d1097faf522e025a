// Hosts -> buckets -> calls (DESIGN section 10). Hosts are dealt round-robin into at most `forks` buckets of
// at least `minBucketHosts` hosts each; the first bucket runs in this process, the others in forked workers
// that stream each host's result back over IPC as it finishes. A worker that dies turns its unfinished hosts
// into `error` outcomes: no host is ever missing.

import { fileURLToPath } from "node:url";
import type { HostResult } from "@func/shared";
import type { MinionAddress } from "./universe.js";
import { sessionKey, type SessionCache } from "./tls-sessions.js";
import { MinionTransport, encodeRequest } from "./transport.js";
import type { TlsMaterial } from "@func/shared";

export interface FanOutCall {
  method: string;
  params: readonly unknown[];
  /** params for particular hosts instead of `params` (polling asks each host about its own job id) */
  perHostParams?: Readonly<Record<string, readonly unknown[]>>;
  timeoutMs: number;
  headers?: Record<string, string>;
}

export interface FanOutOptions {
  identity: TlsMaterial;
  /** most buckets: the first runs in this process, each other one in a forked worker */
  forks: number;
  /**
   * fewest hosts a bucket may have (default 1): a worker costs ~100-150 ms of CPU to start (Node and the
   * codec), more than a small bucket's calls, so smaller fan-outs use fewer buckets than `forks`
   */
  minBucketHosts?: number;
  /** calls in flight at once per bucket */
  concurrency: number;
  /** reuse a transport for the in-process bucket (warm API calls keep their connections) */
  transport?: MinionTransport;
  /** TLS sessions to resume from and to record new ones in (forked buckets get theirs over IPC) */
  sessions?: SessionCache;
}

export type OnResult = (name: string, result: HostResult) => void;

/** Messages a bucket worker sends to its parent. */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "result"; name: string; result: HostResult }
  | { type: "session"; key: string; session: Uint8Array }
  | { type: "done" };
/** The one message a bucket worker receives. */
export interface WorkerTask {
  minions: MinionAddress[];
  call: FanOutCall;
  identity: TlsMaterial;
  concurrency: number;
  /** saved TLS sessions of this bucket's minions, by sessionKey */
  sessions: [string, Uint8Array][];
}

/** Deals hosts round-robin into at most `forks` non-empty buckets, each of at least `minPerBucket` (when there are that many). */
export function buckets<T>(items: readonly T[], forks: number, minPerBucket = 1): T[][] {
  const most = Math.floor(items.length / Math.max(1, Math.floor(minPerBucket)));
  const n = Math.max(1, Math.min(Math.floor(forks), items.length, most));
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
  const request = encodeRequest(call.method, call.params); // the same body for every host without its own params
  const opts = { timeoutMs: call.timeoutMs, ...(call.headers ? { headers: call.headers } : {}) };
  const lane = async () => {
    while (next < minions.length) {
      const minion = minions[next++]!;
      const own = call.perHostParams && Object.hasOwn(call.perHostParams, minion.name) ? encodeRequest(call.method, call.perHostParams[minion.name]!) : request;
      const result = "body" in own ? await transport.send(minion, own.body, opts) : { ...own.failed };
      onResult(minion.name, result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, minions.length)) }, lane));
}

const WORKER_PATH = fileURLToPath(new URL("./bucket-worker.js", import.meta.url));
/** Longest wait, after a worker exits, for the rest of its messages to be read off the IPC pipe, ms. */
const IPC_DRAIN_MS = 2000;

async function runForkedBucket(minions: MinionAddress[], call: FanOutCall, opts: FanOutOptions, onResult: OnResult): Promise<void> {
  // loaded here: a fan-out without forks (the usual `func` run) need not pay for node:child_process
  const { fork } = await import("node:child_process");
  return new Promise((resolve) => {
    const pending = new Set(minions.map((m) => m.name));
    const child = fork(WORKER_PATH, [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString("utf8");
    });
    const sessions: [string, Uint8Array][] = [];
    for (const m of minions) {
      const key = sessionKey(m);
      const session = opts.sessions?.get(key);
      if (session) sessions.push([key, session]);
    }
    const task: WorkerTask = { minions, call, identity: opts.identity, concurrency: opts.concurrency, sessions };
    child.on("message", (msg: WorkerMessage) => {
      // the task goes out only once the worker listens: a message that arrives while its ES modules are
      // still loading has no listener yet and is lost (the worker would then exit with nothing done)
      if (msg.type === "ready") child.send(task);
      else if (msg.type === "result" && pending.delete(msg.name)) onResult(msg.name, msg.result);
      else if (msg.type === "session") opts.sessions?.set(msg.key, Buffer.from(msg.session));
      else if (msg.type === "done") child.disconnect();
    });
    // 'exit' can come before the last messages in the IPC pipe are read (a worker that finished its hosts and
    // exited at once would have them all turned into BucketDied), and 'close' does not always come: so the
    // unfinished hosts are settled once the worker has exited and its channel is read to the end, or a bounded
    // while after the exit
    let exitedHow: string | null = null;
    let drain: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = () => {
      if (settled || exitedHow === null) return;
      settled = true;
      clearTimeout(drain);
      const why = `bucket worker ${child.pid} exited (${exitedHow}) before this host was done` + (stderr ? `: ${stderr.trim().split("\n").pop()}` : "");
      for (const name of pending) onResult(name, { outcome: "error", error: { code: 0, type: "BucketDied", message: why } });
      pending.clear();
      resolve();
    };
    child.on("disconnect", settle);
    child.on("exit", (code, signal) => {
      exitedHow = signal ?? `code ${code}`;
      if (!child.connected) return settle();
      drain = setTimeout(settle, IPC_DRAIN_MS);
    });
    child.on("error", () => {
      // 'exit' follows and accounts for every pending host
    });
  });
}

/** Fans one call out to every minion; `onResult` sees each host exactly once, as it finishes. */
export async function fanOut(minions: readonly MinionAddress[], call: FanOutCall, opts: FanOutOptions, onResult: OnResult): Promise<void> {
  if (minions.length === 0) return;
  const [own, ...forked] = buckets(minions, opts.forks, opts.minBucketHosts);
  // a transport made for this one fan-out is closed at its end: keeping connections alive would only hoard them
  const transport = opts.transport ?? new MinionTransport(opts.identity, { keepAlive: false, ...(opts.sessions ? { sessions: opts.sessions } : {}) });
  try {
    // the workers are started first: they load their modules while this process makes its own calls
    const workers = forked.map((group) => runForkedBucket(group, call, opts, onResult));
    await Promise.all([runBucket(transport, own!, call, opts.concurrency, onResult), ...workers]);
  } finally {
    if (!opts.transport) transport.close();
  }
}
