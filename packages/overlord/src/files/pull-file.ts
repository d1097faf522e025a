// Pulling one remote file from many minions (getfile) into DIR/<host>/<name>: file.stat declares each size
// (bounded by a cap and the free space), file.read fetches it in rounds of equal chunks, every answer checked
// against what was declared, file.checksum confirms the bytes. Local writes never pass through a symlink.

import { createHash, randomBytes, type Hash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FuncError, OPEN_CREATE, OPEN_DIRECTORY, hashRange, heldPath, inDirectory, isValidMinionName, type HostResult } from "@func/shared";
import type { Overlord } from "../call/overlord.js";
import { fail, isStruct, transferConcurrency, type TransferProgress } from "./transfer.js";

/** Bytes asked for per read. */
const PULL_CHUNK = 4 * 1024 * 1024;
/** Read rounds in flight at once. */
const PIPELINE = 3;
/** Largest file pulled unless the caller says otherwise, bytes. */
export const DEFAULT_PULL_MAX_BYTES = 64 * 1024 ** 3;
/** Mode of a pulled file. */
const PULLED_FILE_MODE = 0o644;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL_RE = /[\x00-\x1f\x7f]/;

export interface PullOptions {
  /** largest file accepted from a host, bytes (default 64 GiB) */
  maxBytes?: number;
  onProgress?: (p: TransferProgress) => void;
}

interface Pull {
  size: number;
  dir: FileHandle;
  temp: string;
  fh: FileHandle;
  hash: Hash;
  /** the bytes before this are in `hash` */
  hashedTo: number;
}

/** The file name a pull writes: the remote path's last component, which must be a plain, printable name. */
export function pulledName(remote: string): string {
  const name = remote.split("/").filter(Boolean).pop() ?? "";
  if (name === "" || name === "." || name === ".." || CONTROL_RE.test(name) || name.length > 255) {
    throw new FuncError("UsageError", `${JSON.stringify(remote)} does not end in a file name getfile can write`);
  }
  return name;
}

async function openHostDir(base: FileHandle, host: string): Promise<FileHandle> {
  // names come from certs (and so, in the end, from enrollees): only host-name syntax becomes a directory
  if (!isValidMinionName(host)) throw new FuncError("BadArguments", `${JSON.stringify(String(host).slice(0, 80))} is not a host name`);
  await fs.mkdir(inDirectory(base, host), { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  try {
    return await fs.open(inDirectory(base, host), OPEN_DIRECTORY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const link = await fs.lstat(inDirectory(base, host)).then((st) => st.isSymbolicLink(), () => false);
    throw new FuncError("BadArguments", link ? `${host} in the local directory is a symbolic link: remove it` : `${host} in the local directory is not a directory (${code})`);
  }
}

async function discard(p: Pull): Promise<void> {
  await p.fh.close().catch(() => {});
  await fs.unlink(inDirectory(p.dir, p.temp)).catch(() => {});
  await p.dir.close().catch(() => {});
}

/**
 * Copies `remote` from every host `overlord` targets to `<dir>/<host>/<name>` (`dir` is created if missing).
 * Resolves to one result per host: `{path, size, sha256}`, or the host's error (nothing left behind for it).
 */
export async function pullFile(overlord: Overlord, remote: string, dir: string, opts: PullOptions = {}): Promise<Record<string, HostResult>> {
  const name = pulledName(remote);
  const maxBytes = opts.maxBytes ?? DEFAULT_PULL_MAX_BYTES;
  const hosts = overlord.hosts();
  let base: FileHandle;
  try {
    await fs.mkdir(dir, { recursive: true });
    base = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw new FuncError("UsageError", `cannot use ${dir} as the local directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const results: Record<string, HostResult> = {};
  const pulls = new Map<string, Pull>();
  try {
    const sizes = new Map<string, number>();
    await overlord.fanOut(overlord.addresses(hosts), { method: "file.stat", params: [remote], timeoutMs: overlord.timeoutMs }, (host, r) => {
      if (r.outcome !== "ok") return void (results[host] = r);
      const v = r.value;
      if (!isStruct(v) || typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) return void (results[host] = fail("file.stat", "no valid size"));
      if (v.type !== "file") return void (results[host] = { outcome: "error", error: { code: 4, type: "BadArguments", message: `${remote} is not a regular file (${String(v.type).slice(0, 20)})` } });
      if (v.size > maxBytes) return void (results[host] = { outcome: "error", error: { code: 5, type: "LimitExceeded", message: `${remote} is ${v.size} bytes, over the ${maxBytes} getfile takes (--max-size)` } });
      sizes.set(host, v.size);
    }, { forks: 1 });

    let free = await fs.statfs(heldPath(base)).then((s) => s.bavail * s.bsize);
    for (const [host, size] of sizes) {
      if (size > free) {
        results[host] = { outcome: "error", error: { code: 5, type: "LimitExceeded", message: `${size} bytes do not fit in ${dir} (${free} bytes free)` } };
        continue;
      }
      try {
        const hostDir = await openHostDir(base, host);
        const temp = `.${name.slice(0, 200)}.func-${randomBytes(8).toString("hex")}`;
        const fh = await fs.open(inDirectory(hostDir, temp), OPEN_CREATE, 0o600).catch(async (err: unknown) => {
          await hostDir.close();
          throw err;
        });
        pulls.set(host, { size, dir: hostDir, temp, fh, hash: createHash("sha256"), hashedTo: 0 });
        free -= size;
      } catch (err) {
        results[host] = { outcome: "error", error: { code: 4, type: "LocalError", message: (err as Error).message } };
      }
    }

    // PIPELINE rounds in flight at once; each host's bytes are hashed as they come in order, the rest read back
    const concurrency = Math.max(1, Math.floor(transferConcurrency(PULL_CHUNK, overlord.config.concurrency) / PIPELINE));
    const started = performance.now();
    const total = Math.max(0, ...[...pulls.values()].map((p) => p.size));
    const drop = (host: string, r: HostResult): Promise<void> => {
      const p = pulls.get(host);
      if (!p) return Promise.resolve();
      results[host] = r;
      pulls.delete(host);
      return discard(p);
    };
    const readRound = async (offset: number): Promise<void> => {
      const round = [...pulls.entries()].filter(([, p]) => p.size > offset).map(([h]) => h);
      if (round.length === 0) return;
      const writes: Promise<void>[] = [];
      await overlord.fanOut(overlord.addresses(round), { method: "file.read", params: [remote, offset, PULL_CHUNK], timeoutMs: overlord.timeoutMs }, (host, r) => {
        const p = pulls.get(host);
        if (!p) return;
        if (r.outcome !== "ok") return void writes.push(drop(host, r));
        const v = r.value;
        const want = Math.min(PULL_CHUNK, p.size - offset);
        if (!isStruct(v) || (typeof v.data !== "string" && !Buffer.isBuffer(v.data))) return void writes.push(drop(host, fail("file.read", "no data")));
        if (v.size !== p.size || v.offset !== offset) return void writes.push(drop(host, fail("file.read", `a size or offset other than declared (the file changed while it was read?)`)));
        const data = Buffer.isBuffer(v.data) ? v.data : Buffer.from(v.data, "utf8");
        if (data.length !== want) return void writes.push(drop(host, fail("file.read", `${data.length} bytes at offset ${offset} where ${want} were due`)));
        if (offset === p.hashedTo) {
          p.hash.update(data);
          p.hashedTo += data.length;
        }
        writes.push(
          (async () => {
            for (let done = 0; done < data.length; ) done += (await p.fh.write(data, done, data.length - done, offset + done)).bytesWritten;
          })().catch((err: unknown) => drop(host, { outcome: "error", error: { code: 0, type: "LocalError", message: `writing ${join(dir, host, name)}: ${(err as Error).message}` } })),
        );
      }, { forks: 1, concurrency });
      await Promise.all(writes);
    };
    const inflight: Promise<void>[] = [];
    let done = 0;
    for (let offset = 0; offset < total && pulls.size > 0; offset += PULL_CHUNK) {
      const round = readRound(offset).then(() => {
        done = Math.min(total, done + PULL_CHUNK);
        opts.onProgress?.({ bytes: done, total, hosts: pulls.size, elapsedMs: performance.now() - started });
      });
      round.catch(() => {}); // awaited below; a rejection meanwhile is not unhandled
      inflight.push(round);
      if (inflight.length >= PIPELINE) await inflight.shift();
    }
    await Promise.all(inflight);
    for (const [host, p] of pulls) {
      if (p.hashedTo < p.size) {
        await hashRange(p.fh, p.hash, p.hashedTo, p.size).catch((err: unknown) => drop(host, { outcome: "error", error: { code: 0, type: "LocalError", message: `reading back ${join(dir, host, name)}: ${(err as Error).message}` } }));
      }
    }

    const digests = new Map([...pulls].map(([h, p]) => [h, p.hash.digest("hex")]));
    const confirmed: string[] = [];
    await overlord.fanOut(overlord.addresses([...pulls.keys()]), { method: "file.checksum", params: [remote], timeoutMs: overlord.timeoutMs }, (host, r) => {
      if (r.outcome !== "ok") results[host] = r;
      else if (r.value !== digests.get(host)) results[host] = fail("file.checksum", "a SHA-256 other than that of the bytes it sent (the file changed while it was read?)");
      else confirmed.push(host);
    }, { forks: 1 });
    for (const host of confirmed) {
      const p = pulls.get(host)!;
      try {
        await p.fh.chmod(PULLED_FILE_MODE);
        await p.fh.sync();
        await p.fh.close();
        // a rename replaces whatever <name> is, a planted symlink included, and never writes through it
        await fs.rename(inDirectory(p.dir, p.temp), inDirectory(p.dir, name));
        await p.dir.close();
        pulls.delete(host);
        results[host] = { outcome: "ok", value: { path: join(dir, host, name), size: p.size, sha256: digests.get(host)! } };
      } catch (err) {
        results[host] = { outcome: "error", error: { code: 0, type: "LocalError", message: `writing ${join(dir, host, name)}: ${(err as Error).message}` } };
      }
    }
    return Object.fromEntries(hosts.map((h) => [h, results[h] ?? fail("file.read", "no answer")]));
  } finally {
    // whatever did not finish leaves nothing behind
    await Promise.all([...pulls.values()].map(discard));
    await base.close();
  }
}
