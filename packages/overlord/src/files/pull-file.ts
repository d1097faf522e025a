// Pulling one remote file from many minions (getfile) into DIR/<host>/<name>, each host on its own pipeline:
// file.stat declares the size (bounded by a cap and the free space), file.read fetches equal chunks, a few in
// flight, every answer checked against what was declared, file.checksum confirms the bytes. No host waits for
// another; the chunks held at once are bounded over all hosts. Local writes never pass through a symlink.

import { createHash, randomBytes, type Hash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FuncError, OPEN_CREATE, OPEN_DIRECTORY, encodeCallBytes, heldPath, inDirectory, isValidMinionName, type HostResult } from "@func/shared";
import type { Overlord } from "../call/overlord.js";
import type { MinionAddress } from "../call/universe.js";
import { ByteGate } from "./byte-gate.js";
import { HOST_WINDOW, TRANSFER_MEMORY_BYTES, fail, isStruct, progressReporter, runPool, type TransferProgress } from "./transfer.js";

/** Bytes asked for per read (less when max_response_bytes cannot carry that much as base64). */
const PULL_CHUNK = 4 * 1024 * 1024;
/** What an answer carries besides its chunk's base64 (envelope, size, offset). */
const ANSWER_OVERHEAD_BYTES = 64 * 1024;
/** Memory one read in flight may take: its answer (base64, ~4/3 of the chunk) and the decoded chunk. */
const READ_COST_FACTOR = 2.4;
/** Chunk buffers kept for reuse (about as many as the byte gate lets be in flight). */
const SPARE_BUFFERS = 16;
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
  /** chunks written but not hashed yet (they came before an earlier one), by offset */
  early: Map<number, Buffer>;
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
    // the largest chunk whose answer fits under max_response_bytes, in whole 4 KiB pages
    const fits = Math.floor(((overlord.config.maxResponseBytes - ANSWER_OVERHEAD_BYTES) * 3) / 4);
    const chunk = Math.max(4096, Math.min(PULL_CHUNK, fits - (fits % 4096)));
    const gate = new ByteGate(TRANSFER_MEMORY_BYTES);
    const readCost = Math.ceil(chunk * READ_COST_FACTOR) + ANSWER_OVERHEAD_BYTES;
    // chunk buffers lent to bytes answers come back once written and hashed, for the next read to fill: a
    // fresh 4 MiB per read is external memory V8 answers with a full collection every few chunks
    const spare: Buffer[] = [];
    const lent = new WeakSet<Buffer>();
    const bytesAnswer = {
      maxBytes: chunk,
      buffer: (n: number): Buffer => {
        const b = (n === chunk ? spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(n);
        lent.add(b);
        return b;
      },
    };
    const giveBack = (b: Buffer) => {
      if (b.length === chunk && lent.has(b) && spare.length < SPARE_BUFFERS) spare.push(b);
    };
    const stat = encodeCallBytes("file.stat", [remote]);
    const checksum = encodeCallBytes("file.checksum", [remote]);
    let free = await fs.statfs(heldPath(base)).then((s) => s.bavail * s.bsize);
    const report = progressReporter(opts.onProgress);

    const drop = (host: string, r: HostResult): Promise<void> => {
      const p = pulls.get(host);
      results[host] = r;
      if (!p) return Promise.resolve();
      pulls.delete(host);
      return discard(p);
    };

    const pullHost = async (host: string, address: MinionAddress): Promise<void> => {
      const r = await overlord.send(address, stat);
      if (r.outcome !== "ok") return void (results[host] = r);
      const v = r.value;
      if (!isStruct(v) || typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) return void (results[host] = fail("file.stat", "no valid size"));
      if (v.type !== "file") return void (results[host] = { outcome: "error", error: { code: 4, type: "BadArguments", message: `${remote} is not a regular file (${String(v.type).slice(0, 20)})` } });
      if (v.size > maxBytes) return void (results[host] = { outcome: "error", error: { code: 5, type: "LimitExceeded", message: `${remote} is ${v.size} bytes, over the ${maxBytes} getfile takes (--max-size)` } });
      const size = v.size;
      if (size > free) return void (results[host] = { outcome: "error", error: { code: 5, type: "LimitExceeded", message: `${size} bytes do not fit in ${dir} (${free} bytes free)` } });
      free -= size;
      let p: Pull;
      try {
        const hostDir = await openHostDir(base, host);
        const temp = `.${name.slice(0, 200)}.func-${randomBytes(8).toString("hex")}`;
        const fh = await fs.open(inDirectory(hostDir, temp), OPEN_CREATE, 0o600).catch(async (err: unknown) => {
          await hostDir.close();
          throw err;
        });
        p = { size, dir: hostDir, temp, fh, hash: createHash("sha256"), hashedTo: 0, early: new Map() };
        pulls.set(host, p);
      } catch (err) {
        results[host] = { outcome: "error", error: { code: 4, type: "LocalError", message: (err as Error).message } };
        return;
      }
      report.start(host, size);

      // HOST_WINDOW reads in flight, none more than HOST_WINDOW chunks past the first one not yet hashed; each
      // chunk is written where it belongs and hashed once those before it are, its memory counted till then
      let next = 0;
      let broken = false;
      const waiting: (() => void)[] = [];
      const wake = () => {
        for (const w of waiting.splice(0)) w();
      };
      const stop = async (r: HostResult): Promise<false> => {
        broken = true;
        gate.give(readCost * p.early.size);
        p.early.clear();
        wake();
        await drop(host, r);
        return false;
      };
      /** Reads the chunk at `offset`; true when its memory is now the hash's to give back. */
      const readOne = async (offset: number): Promise<boolean> => {
        const want = Math.min(chunk, size - offset);
        const a = await overlord.send(address, encodeCallBytes("file.read", [remote, offset, chunk]), { bytesAsText: false, bytesAnswer });
        if (broken) return false;
        if (a.outcome !== "ok") return stop(a);
        const d = a.value;
        if (!isStruct(d) || !Buffer.isBuffer(d.data)) return stop(fail("file.read", "no data"));
        if (d.size !== size || d.offset !== offset) return stop(fail("file.read", "a size or offset other than declared (the file changed while it was read?)"));
        const data = d.data;
        if (data.length !== want) return stop(fail("file.read", `${data.length} bytes at offset ${offset} where ${want} were due`));
        try {
          for (let done = 0; done < data.length; ) done += (await p.fh.write(data, done, data.length - done, offset + done)).bytesWritten;
        } catch (err) {
          return stop({ outcome: "error", error: { code: 0, type: "LocalError", message: `writing ${join(dir, host, name)}: ${(err as Error).message}` } });
        }
        if (broken) return false;
        p.early.set(offset, data);
        for (let e = p.early.get(p.hashedTo); e !== undefined; e = p.early.get(p.hashedTo)) {
          p.early.delete(p.hashedTo);
          p.hash.update(e);
          p.hashedTo += e.length;
          giveBack(e);
          gate.give(readCost);
        }
        wake();
        report.moved(host, want);
        return true;
      };
      const claimable = () => !broken && next * chunk < size && next * chunk < p.hashedTo + HOST_WINDOW * chunk;
      const lane = async () => {
        while (!broken && next * chunk < size) {
          if (!claimable()) {
            await new Promise<void>((resolve) => waiting.push(resolve));
            continue;
          }
          await gate.take(readCost);
          if (!claimable()) {
            gate.give(readCost);
            continue;
          }
          let kept = false;
          try {
            kept = await readOne(next++ * chunk);
          } finally {
            if (!kept) gate.give(readCost);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(HOST_WINDOW, Math.ceil(size / chunk))) }, lane));
      report.done(host);
      if (broken) return;

      const c = await overlord.send(address, checksum);
      const digest = p.hash.digest("hex");
      if (c.outcome !== "ok") return drop(host, c);
      if (c.value !== digest) return drop(host, fail("file.checksum", "a SHA-256 other than that of the bytes it sent (the file changed while it was read?)"));
      try {
        await p.fh.chmod(PULLED_FILE_MODE);
        await p.fh.sync();
        await p.fh.close();
        // a rename replaces whatever <name> is, a planted symlink included, and never writes through it
        await fs.rename(inDirectory(p.dir, p.temp), inDirectory(p.dir, name));
        await p.dir.close();
        pulls.delete(host);
        results[host] = { outcome: "ok", value: { path: join(dir, host, name), size, sha256: digest } };
      } catch (err) {
        await drop(host, { outcome: "error", error: { code: 0, type: "LocalError", message: `writing ${join(dir, host, name)}: ${(err as Error).message}` } });
      }
    };

    const addresses = overlord.addresses(hosts);
    await runPool(hosts.length, overlord.config.concurrency, (i) => pullHost(hosts[i]!, addresses[i]!));
    return Object.fromEntries(hosts.map((h) => [h, results[h] ?? fail("file.read", "no answer")]));
  } finally {
    // whatever did not finish leaves nothing behind
    await Promise.all([...pulls.values()].map(discard));
    await base.close();
  }
}
