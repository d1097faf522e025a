// A forked bucket worker: says it is ready, receives one task, calls its minions with bounded concurrency,
// sends each result (and each new TLS session ticket) to the parent as it arrives, then exits (at once if the
// parent goes away).

import type { WorkerMessage, WorkerTask } from "./fan-out.js";
import { runBucket } from "./fan-out.js";
import type { SessionCache } from "./tls-sessions.js";
import { MinionTransport } from "./transport.js";

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

// The IPC channel closes when the parent is done with us or when it died (killed overlord): either way no
// result can be delivered any more, so stop at once rather than keep calling minions for nobody.
process.once("disconnect", () => process.exit(0));

process.once("message", (task: WorkerTask) => {
  const sends: Promise<void>[] = [];
  const saved = new Map(task.sessions.map(([k, s]) => [k, Buffer.from(s)]));
  const sessions: SessionCache = {
    get: (key) => saved.get(key),
    set: (key, session) => void sends.push(send({ type: "session", key, session })),
  };
  // one fan-out and exit: no connection is used twice
  const transport = new MinionTransport(task.identity, {
    sessions,
    keepAlive: false,
    ...(task.maxResponseBytes !== undefined ? { maxResponseBytes: task.maxResponseBytes } : {}),
  });
  void runBucket(transport, task.minions, task.call, task.concurrency, (name, result) => {
    sends.push(send({ type: "result", name, result }));
  })
    .then(() => Promise.all(sends))
    .then(() => send({ type: "done" }))
    .finally(() => {
      transport.close();
      process.disconnect?.();
    });
});
void send({ type: "ready" });
