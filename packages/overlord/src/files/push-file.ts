// Pushing one local file to many minions (copyfile): hashed once, then each host on its own pipeline:
// file.upload_begin (a host that already holds the content is done), a few chunks in flight at once, and
// file.upload_commit as soon as its last chunk is acknowledged; no host waits for another. Each chunk's request
// is encoded once and shared by the hosts that send it (chunk-bodies.ts): memory stays bounded whatever the size.

import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FuncError, encodeCallBytes, failure, sha256OfHandle, type HostResult, type WireValue } from "@func/shared";
import type { Overlord } from "../call/overlord.js";
import type { MinionAddress } from "../call/universe.js";
import { BodyBudget, ChunkBodies } from "./chunk-bodies.js";
import { HOST_WINDOW, TRANSFER_MEMORY_BYTES, fail, isStruct, progressReporter, runPool, type TransferProgress } from "./transfer.js";

/** Largest chunk sent, bytes (a minion may ask for less: upload_begin answers its `chunk`). */
const MAX_PUSH_CHUNK = 16 * 1024 * 1024;
/** Smallest chunk a minion may ask for; less is a protocol error. */
const MIN_PUSH_CHUNK = 4096;
/** How long abort calls to failed hosts may take, ms: they only save the minions' expiry. */
const ABORT_TIMEOUT_MS = 5000;

export interface PushOptions {
  /** permission bits for the remote file (default: the local file's, without setuid/setgid/sticky) */
  mode?: number;
  /** remote owner and group: ids or names (default: a replaced file's, else funcd's) */
  owner?: string | number;
  group?: string | number;
  onProgress?: (p: TransferProgress) => void;
}

/** The request body of `method(params)`, or the outcome every host gets when the arguments cannot travel. */
function encoded(method: string, params: readonly unknown[]): Buffer | HostResult {
  try {
    return encodeCallBytes(method, params);
  } catch (err) {
    return failure("error", "BadArguments", (err as Error).message);
  }
}

/**
 * Writes `local` to `remote` on every host `overlord` targets; `remote` ending in `/` means "into that
 * directory" (it must exist). Resolves to one result per host: `{written, path, size, sha256, backup}`.
 */
export async function pushFile(overlord: Overlord, local: string, remote: string, opts: PushOptions = {}): Promise<Record<string, HostResult>> {
  let fh: FileHandle;
  try {
    fh = await fs.open(local, "r");
  } catch (err) {
    throw new FuncError("UsageError", `cannot read ${local}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FuncError("UsageError", `${local} is not a regular file`);
    const name = local.split("/").filter(Boolean).pop() ?? "";
    const target = remote.endsWith("/") ? remote + name : remote;
    const size = st.size;
    const sha256 = await sha256OfHandle(fh);
    const options: Record<string, WireValue> = { mode: opts.mode ?? st.mode & 0o777 };
    if (opts.owner !== undefined) options.owner = opts.owner;
    if (opts.group !== undefined) options.group = opts.group;

    const hosts = overlord.hosts();
    const results: Record<string, HostResult> = {};
    // one id for every host: the chunk requests are then byte-for-byte the same, encoded once for all
    const id = randomBytes(16).toString("hex");
    const begin = encoded("file.upload_begin", [id, target, size, sha256, options]);
    const commit = encoded("file.upload_commit", [id, sha256]);
    const abort = encoded("file.upload_abort", [id]);
    if (!Buffer.isBuffer(begin) || !Buffer.isBuffer(commit) || !Buffer.isBuffer(abort)) {
      const why = [begin, commit, abort].find((b) => !Buffer.isBuffer(b)) as HostResult;
      return Object.fromEntries(hosts.map((h) => [h, why]));
    }
    // hosts whose minions take the same chunk size share one set of bodies (all of them, usually); every set
    // spends from one budget
    const budget = new BodyBudget(TRANSFER_MEMORY_BYTES);
    const bodies = new Map<number, { set: ChunkBodies; at: number[]; low: number }>();
    const bodiesFor = (chunk: number) => {
      let b = bodies.get(chunk);
      if (!b) {
        const set = new ChunkBodies(fh, local, id, size, chunk, budget);
        // how many hosts will ask for each chunk index next: the lowest one with any is what is still needed
        bodies.set(chunk, (b = { set, at: new Array<number>(set.count + 1).fill(0), low: 0 }));
      }
      return b;
    };
    const report = progressReporter(opts.onProgress);
    let fatal: unknown = null;

    const pushHost = async (host: string, address: MinionAddress): Promise<void> => {
      const began = await overlord.send(address, begin);
      if (began.outcome !== "ok") return void (results[host] = began);
      const v = began.value;
      if (isStruct(v) && v.written === false && typeof v.path === "string") return void (results[host] = began);
      if (!(isStruct(v) && v.upload === id && typeof v.chunk === "number" && Number.isInteger(v.chunk) && v.chunk >= MIN_PUSH_CHUNK)) {
        results[host] = fail("file.upload_begin", "an answer that is neither an upload nor unchanged");
        return;
      }
      const chunk = Math.min(MAX_PUSH_CHUNK, v.chunk);
      const b = bodiesFor(chunk);
      const count = b.set.count;
      let next = 0;
      b.at[0]!++;
      // this host no longer asks for chunk `from`; the bodies below every host's next chunk are done
      const move = (from: number, to: number) => {
        b.at[from]!--;
        if (to <= count) b.at[to]!++;
        while (b.low < count && b.at[b.low] === 0) b.low++;
        b.set.passed(b.low);
      };
      report.start(host, size);
      let broken: HostResult | null = null;
      const lane = async () => {
        while (broken === null && fatal === null && next < count) {
          const k = next++;
          // held (pinned) before this host moves on from it, so the slowest host's body is not dropped under it
          const held = b.set.acquire(k);
          move(k, k + 1);
          let body: Buffer;
          try {
            body = await held;
          } catch (err) {
            fatal ??= err;
            return;
          }
          let r: HostResult;
          try {
            r = await overlord.send(address, body);
          } finally {
            b.set.release(k);
          }
          const at = k * chunk;
          const len = b.set.length(k);
          if (r.outcome === "ok" && isStruct(r.value) && r.value.offset === at && r.value.length === len) report.moved(host, len);
          // the first failure is the host's result; the chunks already on their way to it change nothing
          else broken ??= r.outcome === "ok" ? fail("file.upload_chunk", `an answer that does not acknowledge bytes ${at}..${at + len}`) : r;
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(HOST_WINDOW, count)) }, lane));
      move(Math.min(next, count), count + 1);
      report.done(host);
      if (fatal !== null) {
        // the local file failed us (it shrank): this host's upload can never complete, so drop it now
        await overlord.send(address, abort, { timeoutMs: Math.min(ABORT_TIMEOUT_MS, overlord.timeoutMs) });
        return;
      }
      if (broken === null) {
        const r = await overlord.send(address, commit);
        if (r.outcome === "ok" && !(isStruct(r.value) && r.value.written === true && r.value.sha256 === sha256)) results[host] = fail("file.upload_commit", "an answer that does not confirm the write");
        else results[host] = r;
        if (r.outcome === "ok" || r.outcome === "denied") return;
      } else results[host] = broken;
      // failed half-way: drop its temp file now rather than at the minion's upload_expiry
      await overlord.send(address, abort, { timeoutMs: Math.min(ABORT_TIMEOUT_MS, overlord.timeoutMs) });
    };

    const addresses = overlord.addresses(hosts);
    await runPool(hosts.length, overlord.config.concurrency, (i) => pushHost(hosts[i]!, addresses[i]!));
    if (fatal !== null) throw fatal;
    return Object.fromEntries(hosts.map((h) => [h, results[h] ?? fail("file.upload_commit", "no answer")]));
  } finally {
    await fh.close();
  }
}
