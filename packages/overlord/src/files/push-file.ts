// Pushing one local file to many minions (copyfile): hashed once, then file.upload_begin on every host (hosts
// that already hold the content are done), the same chunks to all hosts still open, in rounds (one request
// body per round, encoded once), and file.upload_commit. Memory stays at a few chunks whatever the size.

import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FuncError, sha256OfHandle, type HostResult, type WireValue } from "@func/shared";
import type { Overlord } from "../call/overlord.js";
import { fail, isStruct, transferConcurrency, type TransferProgress } from "./transfer.js";

/** Largest chunk sent, bytes (a minion may ask for less: upload_begin answers its `chunk`). */
const MAX_PUSH_CHUNK = 4 * 1024 * 1024;
/** Smallest chunk a minion may ask for; less is a protocol error. */
const MIN_PUSH_CHUNK = 4096;
/** Chunk rounds in flight at once. */
const PIPELINE = 3;
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
    // one id for every host: the chunk requests are then byte-for-byte the same, encoded once per round
    const id = randomBytes(16).toString("hex");
    const open = new Map<string, number>();
    await overlord.fanOut(overlord.addresses(hosts), { method: "file.upload_begin", params: [id, target, size, sha256, options], timeoutMs: overlord.timeoutMs }, (host, r) => {
      if (r.outcome !== "ok") return void (results[host] = r);
      const v = r.value;
      if (isStruct(v) && v.written === false && typeof v.path === "string") results[host] = r;
      else if (isStruct(v) && v.upload === id && typeof v.chunk === "number" && Number.isInteger(v.chunk) && v.chunk >= MIN_PUSH_CHUNK) open.set(host, v.chunk);
      else results[host] = fail("file.upload_begin", "an answer that is neither an upload nor unchanged");
    }, { forks: 1 });

    const chunk = Math.min(MAX_PUSH_CHUNK, ...open.values());
    // PIPELINE rounds in flight at once: each host always has the next chunk coming while it writes one
    const concurrency = Math.max(1, Math.floor(transferConcurrency(chunk, overlord.config.concurrency) / PIPELINE));
    const started = performance.now();
    const inflight: Promise<void>[] = [];
    let acknowledged = 0;
    for (let offset = 0; open.size > 0 && offset < size; offset += chunk) {
      const len = Math.min(chunk, size - offset);
      const buf = Buffer.allocUnsafe(len);
      for (let got = 0; got < len; ) {
        const { bytesRead } = await fh.read(buf, got, len - got, offset + got);
        if (bytesRead === 0) throw new FuncError("UsageError", `${local} shrank while it was being sent`);
        got += bytesRead;
      }
      const at = offset;
      const round = overlord
        .fanOut(overlord.addresses([...open.keys()]), { method: "file.upload_chunk", params: [id, at, buf], timeoutMs: overlord.timeoutMs }, (host, r) => {
          if (r.outcome === "ok" && isStruct(r.value) && r.value.offset === at && r.value.length === len) return;
          // the first failure is the host's result; the chunks already on their way to it change nothing
          if (open.delete(host)) results[host] = r.outcome === "ok" ? fail("file.upload_chunk", `an answer that does not acknowledge bytes ${at}..${at + len}`) : r;
        }, { forks: 1, concurrency })
        .then(() => {
          acknowledged += len;
          opts.onProgress?.({ bytes: acknowledged, total: size, hosts: open.size, elapsedMs: performance.now() - started });
        });
      round.catch(() => {}); // awaited below; a rejection meanwhile is not unhandled
      inflight.push(round);
      if (inflight.length >= PIPELINE) await inflight.shift();
    }
    await Promise.all(inflight);

    if (open.size > 0) {
      await overlord.fanOut(overlord.addresses([...open.keys()]), { method: "file.upload_commit", params: [id, sha256], timeoutMs: overlord.timeoutMs }, (host, r) => {
        if (r.outcome === "ok" && !(isStruct(r.value) && r.value.written === true && r.value.sha256 === sha256)) results[host] = fail("file.upload_commit", "an answer that does not confirm the write");
        else results[host] = r;
        open.delete(host);
      }, { forks: 1 });
    }
    // hosts that failed half-way: drop their temp files now rather than at the minion's upload_expiry
    const failed = hosts.filter((h) => results[h]?.outcome !== "ok" && results[h]?.outcome !== "denied");
    if (failed.length > 0) {
      await overlord
        .fanOut(overlord.addresses(failed), { method: "file.upload_abort", params: [id], timeoutMs: Math.min(ABORT_TIMEOUT_MS, overlord.timeoutMs) }, () => {}, { forks: 1 })
        .catch(() => {});
    }
    return Object.fromEntries(hosts.map((h) => [h, results[h] ?? fail("file.upload_commit", "no answer")]));
  } finally {
    await fh.close();
  }
}
