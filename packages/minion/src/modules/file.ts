// The `file` module (Func's copyfile/getfile): write, upload in chunks, read in chunks, checksum and stat,
// only under the configured roots (minion.conf file_roots). Every path is checked on what was really opened
// (file-roots.ts); writes replace atomically inside the held directory, keeping a backup (file-replace.ts).

import { FuncError } from "@func/shared/core";
import type { FuncModule } from "../registry.js";
import { sha256, sha256OfHandle } from "./file-hash.js";
import { fileMeta } from "./file-meta.js";
import { openDestination, openExisting, statChecked } from "./file-roots.js";
import { createTemp, install, openCurrent, removeTemp, unchanged } from "./file-replace.js";
import { abortUpload, beginUpload, commitUpload, uploadChunk } from "./file-upload.js";

/** Default and largest chunk `file.read` returns, bytes: answers stay well under the overlord's limits. */
const READ_CHUNK = 1024 * 1024;
const MAX_READ_CHUNK = 16 * 1024 * 1024;

const OPTIONS_DOC = "options: {mode (at most file_max_mode, 0777 by default), owner, group (ids or names)}";

export const fileModule: FuncModule = {
  name: "file",
  description: "Write, upload, read, checksum and stat files under the allowed roots",
  methods: {
    write: {
      doc: `Writes data (text or base64 bytes) atomically, keeping the replaced file as a backup; {written: false} when the content is already there. ${OPTIONS_DOC}.`,
      example: 'func "web*" call file write /etc/motd "hello\\n"',
      params: [
        { name: "path", type: "string" },
        { name: "data", type: "string" },
        { name: "options", type: "struct", optional: true },
      ],
      run: async (ctx, path, data, options) => {
        const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as string, "utf8");
        const dest = await openDestination(ctx.config, path);
        const current = await openCurrent(dest).catch(async (err: unknown) => {
          await dest.dir.close();
          throw err;
        });
        try {
          const meta = await fileMeta(ctx.config, options ?? undefined, current?.stat ?? null);
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
    },
    upload_begin: {
      doc: `Begins a chunked upload of size bytes with this SHA-256 under the caller's id: {upload, chunk (largest chunk accepted)}, or {written: false} when the file already has that content. ${OPTIONS_DOC}.`,
      example: 'func "web1" call file upload_begin 5f2a9c01b7e44d1c /etc/motd 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
      params: [
        { name: "id", type: "string" },
        { name: "path", type: "string" },
        { name: "size", type: "int" },
        { name: "sha256", type: "string" },
        { name: "options", type: "struct", optional: true },
      ],
      run: (ctx, id, path, size, digest, options) => beginUpload(ctx, id, path, size, digest, options ?? undefined),
      asyncAllowed: false,
    },
    upload_chunk: {
      doc: "Appends the next chunk (base64 bytes) of an upload at offset (the bytes received so far): {received}.",
      example: 'func "web1" call file upload_chunk 5f2a9c01b7e44d1c 0 "hello\\n"',
      params: [
        { name: "id", type: "string" },
        { name: "offset", type: "int" },
        { name: "data", type: "string" },
      ],
      run: (ctx, id, offset, data) => uploadChunk(ctx, id, offset, data),
      asyncAllowed: false,
    },
    upload_commit: {
      doc: "Checks an upload's size and SHA-256 and puts the file in place atomically (the old one kept as a backup): {written, path, size, sha256, backup}.",
      example: 'func "web1" call file upload_commit 5f2a9c01b7e44d1c 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
      params: [
        { name: "id", type: "string" },
        { name: "sha256", type: "string" },
      ],
      run: (ctx, id, digest) => commitUpload(ctx, id, digest),
      asyncAllowed: false,
    },
    upload_abort: {
      doc: "Drops an upload and its temp file: true, or false when there was none.",
      example: 'func "web1" call file upload_abort 5f2a9c01b7e44d1c',
      params: [{ name: "id", type: "string" }],
      run: (ctx, id) => abortUpload(ctx, id),
      asyncAllowed: false,
    },
    read: {
      doc: "Reads up to length bytes from offset of a regular file: {data (base64), size, offset, eof}. Read big files in chunks.",
      example: 'func "web1" call file read /etc/hostname',
      params: [
        { name: "path", type: "string" },
        { name: "offset", type: "int", optional: true },
        { name: "length", type: "int", optional: true },
      ],
      run: async (ctx, path, offset, length) => {
        const off = (offset as number | null | undefined) ?? 0;
        const len = (length as number | null | undefined) ?? READ_CHUNK;
        if (off < 0 || len < 0 || len > MAX_READ_CHUNK) throw new FuncError("BadArguments", `offset >= 0, 0 <= length <= ${MAX_READ_CHUNK}`);
        const { fh, stat } = await openExisting(ctx.config, path);
        try {
          const buf = Buffer.alloc(Math.max(0, Math.min(len, stat.size - off)));
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
    },
    checksum: {
      doc: "SHA-256 (hex) of a regular file's content, read in bounded steps.",
      example: 'func "*" call file checksum /etc/passwd',
      params: [{ name: "path", type: "string" }],
      run: async (ctx, path) => {
        const { fh } = await openExisting(ctx.config, path);
        try {
          return await sha256OfHandle(fh);
        } finally {
          await fh.close();
        }
      },
    },
    stat: {
      doc: "{type, size, mode, uid, gid, mtime (epoch s)} of a path.",
      example: 'func "*" call file stat /etc/nginx/nginx.conf',
      params: [{ name: "path", type: "string" }],
      run: async (ctx, path) => {
        const st = await statChecked(ctx.config, path);
        const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "link" : "other";
        return { type, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      },
    },
  },
};

