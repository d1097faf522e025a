// The `file` module (Func's copyfile/getfile): write, upload in chunks, read in chunks, checksum and stat,
// only under the configured roots (minion.conf file_roots), as signatures/file.ts declares them. Every path is
// checked on what was really opened (file-roots.ts); writes replace atomically inside the held directory,
// keeping a backup (file-replace.ts).

import { FILE } from "@func/shared/core";
import { implement } from "../registry.js";
import { sha256, sha256OfHandle } from "./file-hash.js";
import { fileMeta } from "./file-meta.js";
import { openDestination, openExisting, statChecked } from "./file-roots.js";
import { createTemp, install, openCurrent, removeTemp, unchanged } from "./file-replace.js";
import { abortUpload, beginUpload, commitUpload, uploadChunk } from "./file-upload.js";

/** Default chunk `file.read` returns, bytes: answers stay well under the overlord's limits. */
const READ_CHUNK = 1024 * 1024;

export const fileModule = implement(FILE, {
  write: async (ctx, path, bytes, options) => {
    const dest = await openDestination(ctx.config, path);
    const current = await openCurrent(dest).catch(async (err: unknown) => {
      await dest.dir.close();
      throw err;
    });
    try {
      const meta = await fileMeta(ctx.config, options, current?.stat ?? null);
      const digest = sha256(bytes);
      const same = await unchanged(current, bytes.length, digest, meta);
      if (same) return { written: false, path: dest.shown, size: bytes.length, sha256: digest, backup: null, mode_changed: same.metaChanged };
      const temp = await createTemp(dest);
      try {
        await temp.fh.writeFile(bytes);
        const backup = await install(ctx.config, dest, temp, current, meta);
        return { written: true, path: dest.shown, size: bytes.length, sha256: digest, backup, mode_changed: false };
      } catch (err) {
        await removeTemp(dest, temp);
        throw err;
      }
    } finally {
      await current?.fh.close();
      await dest.dir.close();
    }
  },
  upload_begin: (ctx, id, path, size, digest, options) => beginUpload(ctx, id, path, size, digest, options),
  upload_chunk: (ctx, id, offset, data) => uploadChunk(ctx, id, offset, data),
  upload_commit: (ctx, id, digest) => commitUpload(ctx, id, digest),
  upload_abort: (ctx, id) => abortUpload(ctx, id),
  read: async (ctx, path, offset, length) => {
    const off = offset ?? 0;
    const len = length ?? READ_CHUNK;
    const { fh, stat } = await openExisting(ctx.config, path);
    try {
      // unfilled: only the bytes read are ever answered
      const buf = Buffer.allocUnsafeSlow(Math.max(0, Math.min(len, stat.size - off)));
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, off + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { data: buf.subarray(0, got), size: stat.size, offset: off, eof: off + got >= stat.size };
    } finally {
      await fh.close();
    }
  },
  checksum: async (ctx, path) => {
    const { fh } = await openExisting(ctx.config, path);
    try {
      return await sha256OfHandle(fh);
    } finally {
      await fh.close();
    }
  },
  stat: async (ctx, path) => {
    const st = await statChecked(ctx.config, path);
    const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "link" : "other";
    return { type, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  },
});
