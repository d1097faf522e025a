// A lock shared by the processes of one host: the overlord's job store is opened and written by the CLI,
// detached dispatchers and API users at once, and lmdb-js loses or corrupts transactions when processes open
// it or write it concurrently. Held by listening on an abstract Unix socket (Linux), so the kernel frees it
// the moment its holder exits or is killed: no stale lock to break. Elsewhere a socket file stands in.

import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FuncError } from "./errors.js";

/** Pause between tries while another process holds the lock, ms. */
const RETRY_MS = 2;
/** Longest wait for the lock: a holder keeps it for one short transaction, so this means something is stuck. */
export const HOST_LOCK_TIMEOUT_MS = 60_000;
const ABSTRACT = process.platform === "linux";

/** Holders of the same lock within this process queue here instead of contending through the kernel. */
const queues = new Map<string, Promise<void>>();

function socketName(key: string): string {
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 32);
  return ABSTRACT ? `\0func-lock-${hash}` : join(tmpdir(), `func-lock-${hash}.sock`);
}

function listen(name: string): Promise<Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ path: name, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** A socket file nobody listens on is left from a holder that died (file sockets only). */
function stale(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: name });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

async function acquire(key: string, timeoutMs: number): Promise<Server> {
  const name = socketName(key);
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const got = await listen(name);
    if (!(got instanceof Error)) return got;
    if (got.code !== "EADDRINUSE") throw new FuncError("StoreError", `cannot take the lock for ${key}: ${got.message}`, { cause: got });
    if (!ABSTRACT && (await stale(name))) {
      rmSync(name, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new FuncError("StoreError", `timed out after ${timeoutMs} ms waiting for the lock on ${key}`);
    await sleep(RETRY_MS);
  }
}

/** Runs `fn` while holding the host-wide lock named `key` (e.g. a store's directory). */
export async function withHostLock<T>(key: string, fn: () => T | Promise<T>, timeoutMs = HOST_LOCK_TIMEOUT_MS): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = before.then(() => mine);
  queues.set(key, tail);
  await before;
  try {
    const server = await acquire(key, timeoutMs);
    try {
      return await fn();
    } finally {
      server.close();
    }
  } finally {
    done();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
