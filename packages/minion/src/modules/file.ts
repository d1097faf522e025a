// The `file` module (Func's copyfile/getfile): write, read in chunks, checksum and stat files, only under
// the configured roots (minion.conf file_roots). Paths are resolved through symlinks before the check, so
// `..` and links cannot lead outside a root.

import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import { FILE, FuncError } from "@func/shared/core";
import { implement, type CallContext } from "../registry.js";

/** Default chunk `file.read` returns, bytes: answers stay well under the overlord's limits. */
const READ_CHUNK = 1024 * 1024;

function within(path: string, root: string): boolean {
  return root === sep || path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function realRoots(ctx: CallContext): Promise<string[]> {
  const out: string[] = [];
  for (const r of ctx.config.fileRoots) {
    try {
      out.push(await fs.realpath(r));
    } catch {
      // a root that does not exist allows nothing
    }
  }
  return out;
}

/** Resolves `path` (which must exist when `mustExist`, else its parent must) and checks it lies under a root. */
async function checkedPath(ctx: CallContext, raw: string, mustExist: boolean): Promise<string> {
  if (raw === "" || raw.includes("\0") || !isAbsolute(raw) || raw.length > 4096) {
    throw new FuncError("BadArguments", "path must be an absolute path without NUL characters");
  }
  const abs = resolve(raw);
  let real: string;
  try {
    real = mustExist ? await fs.realpath(abs) : resolve(await fs.realpath(dirname(abs)), abs.slice(dirname(abs).length + 1));
  } catch {
    throw new FuncError("BadArguments", `${abs}: ${mustExist ? "no such file" : "parent directory does not exist"}`);
  }
  const roots = await realRoots(ctx);
  if (!roots.some((root) => within(real, root))) {
    throw new FuncError("AccessDenied", `${abs} is outside the allowed roots (file_roots: ${ctx.config.fileRoots.join(", ")})`);
  }
  return real;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export const fileModule = implement(FILE, {
  write: async (ctx, path, data, options) => {
    const target = await checkedPath(ctx, path, false);
    const mode = options?.mode;
    const digest = sha256(data);
    try {
      const current = await fs.readFile(target);
      if (sha256(current) === digest) {
        if (mode !== undefined) await fs.chmod(target, mode);
        return { written: false, size: data.length, sha256: digest };
      }
    } catch {
      // no file yet
    }
    const tmp = `${target}.func-${process.pid}-${Date.now()}`;
    await fs.writeFile(tmp, data, { mode: mode ?? 0o644, flag: "wx" });
    await fs.rename(tmp, target);
    return { written: true, size: data.length, sha256: digest };
  },
  read: async (ctx, path, offset, length) => {
    const target = await checkedPath(ctx, path, true);
    const off = offset ?? 0;
    const len = length ?? READ_CHUNK;
    const fh = await fs.open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new FuncError("BadArguments", `${target} is not a regular file`);
      const buf = Buffer.alloc(Math.max(0, Math.min(len, st.size - off)));
      const { bytesRead } = buf.length ? await fh.read(buf, 0, buf.length, off) : { bytesRead: 0 };
      return { data: buf.subarray(0, bytesRead), size: st.size, offset: off, eof: off + bytesRead >= st.size };
    } finally {
      await fh.close();
    }
  },
  checksum: async (ctx, path) => sha256(await fs.readFile(await checkedPath(ctx, path, true))),
  stat: async (ctx, path) => {
    const st = await fs.stat(await checkedPath(ctx, path, true));
    const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "link" : "other";
    return { type, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  },
});
