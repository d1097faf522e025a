// `func <spec> copyfile LOCAL REMOTE` and `func <spec> getfile REMOTE DIR` (Func's copyfile/getfile) over
// the minion's `file` module: one write per host, or chunked reads into DIR/<host>/<name>.

import { mkdirSync, openSync, closeSync, readFileSync, statSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { FuncError, type HostResult } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { printResults, type Io, type OutputOptions } from "./call.js";

/** Largest file copyfile sends in one call: it must fit the minion's request limit (4 MiB by default). */
export const MAX_COPY_BYTES = 3 * 1024 * 1024;
/** Bytes asked for per getfile round. */
const GET_CHUNK = 1024 * 1024;

export async function copyFile(spec: string, local: string, remote: string, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  let st;
  try {
    st = statSync(local);
  } catch {
    throw new FuncError("UsageError", `cannot read ${local}`);
  }
  if (!st.isFile()) throw new FuncError("UsageError", `${local} is not a regular file`);
  if (st.size > MAX_COPY_BYTES) throw new FuncError("UsageError", `${local} is ${st.size} bytes; copyfile sends at most ${MAX_COPY_BYTES} (use a package or a pull from a URL for big files)`);
  const data = readFileSync(local);
  const overlord = new Overlord(spec, opts);
  try {
    const total = overlord.hosts().length;
    return await printResults(overlord.stream("file", "write", [remote, data, { mode: st.mode & 0o7777 }]), total, out, io);
  } finally {
    await overlord.close();
  }
}

export async function getFile(spec: string, remote: string, dir: string, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const overlord = new Overlord(spec, opts);
  const hosts = overlord.hosts();
  const results: Record<string, HostResult> = {};
  const fds = new Map<string, number>();
  const sizes = new Map<string, number>();
  try {
    let open = hosts;
    for (let offset = 0; open.length > 0; offset += GET_CHUNK) {
      const next: string[] = [];
      await overlord.fanOut(overlord.addresses(open), { method: "file.read", params: [remote, offset, GET_CHUNK], timeoutMs: overlord.timeoutMs }, (host, r) => {
        if (r.outcome !== "ok") {
          results[host] = r;
          return;
        }
        const v = r.value as { data: Buffer | string; eof: boolean; size: number };
        const bytes = Buffer.isBuffer(v.data) ? v.data : Buffer.from(v.data, "utf8");
        let fd = fds.get(host);
        if (fd === undefined) {
          mkdirSync(join(dir, host), { recursive: true });
          fd = openSync(join(dir, host, basename(remote)), "w");
          fds.set(host, fd);
        }
        writeSync(fd, bytes, 0, bytes.length, offset);
        sizes.set(host, offset + bytes.length);
        if (v.eof || bytes.length === 0) results[host] = { outcome: "ok", value: { path: join(dir, host, basename(remote)), size: offset + bytes.length } };
        else next.push(host);
      });
      open = next;
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
    await overlord.close();
  }
  async function* replay() {
    for (const host of hosts) yield { host, result: results[host]! };
  }
  return printResults(replay(), hosts.length, out, io);
}
