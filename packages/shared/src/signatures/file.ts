// Signatures of the `file` module: write, upload in chunks, read in chunks, checksum and stat files under
// the allowed roots (Func's copyfile/getfile).

import { ABSOLUTE_PATH } from "./common.js";
import { defineModule, optional, param, t } from "./schema.js";

/** Largest chunk `file.read` returns, bytes. */
export const MAX_READ_CHUNK = 16 * 1024 * 1024;

const OPTIONS_DOC = "options: {mode (at most file_max_mode, 0777 by default), owner, group (ids or names)}";

/** {mode, owner, group}: the minion checks owner and group (an id or a name) and mode against file_max_mode. */
const WRITE_OPTIONS = t.struct({
  mode: t.opt(t.int({ min: 0, max: 0o7777 }), "permission bits, e.g. 420 (0644)"),
  owner: t.opt(t.any(), "a user id or name"),
  group: t.opt(t.any(), "a group id or name"),
});
const UPLOAD_ID = t.string({ pattern: "[A-Za-z0-9_-]{16,64}" });
const SHA256_HEX = t.string({ pattern: "[0-9a-f]{64}" });

export const FILE = defineModule({
  name: "file",
  description: "Write, upload, read, checksum and stat files under the allowed roots",
  methods: {
    write: {
      doc: `Writes data (text or base64 bytes) atomically, keeping the replaced file as a backup; {written: false} when the content is already there. ${OPTIONS_DOC}.`,
      example: 'func "web*" call file write /etc/motd "hello\\n"',
      params: [param("path", ABSOLUTE_PATH), param("data", t.bytes()), optional("options", WRITE_OPTIONS)],
    },
    upload_begin: {
      doc: `Begins a chunked upload of size bytes with this SHA-256 under the caller's id: {upload, chunk (largest chunk accepted)}, or {written: false} when the file already has that content. ${OPTIONS_DOC}.`,
      example:
        'func "web1" call file upload_begin 5f2a9c01b7e44d1c /etc/motd 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
      params: [
        param("id", UPLOAD_ID, "the caller's upload id (16-64 of A-Z a-z 0-9 _ -)"),
        param("path", ABSOLUTE_PATH),
        param("size", t.int({ min: 0 })),
        param("sha256", SHA256_HEX),
        optional("options", WRITE_OPTIONS),
      ],
      async_allowed: false,
    },
    upload_chunk: {
      doc: "Writes the next chunk (base64 bytes) of an upload at offset: {received}.",
      example: 'func "web1" call file upload_chunk 5f2a9c01b7e44d1c 0 "hello\\n"',
      params: [param("id", UPLOAD_ID), param("offset", t.int({ min: 0 })), param("data", t.bytes())],
      async_allowed: false,
    },
    upload_commit: {
      doc: "Checks an upload's size and SHA-256 and puts the file in place atomically (the old one kept as a backup): {written, path, size, sha256, backup}.",
      example: 'func "web1" call file upload_commit 5f2a9c01b7e44d1c 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
      params: [param("id", UPLOAD_ID), param("sha256", SHA256_HEX)],
      async_allowed: false,
    },
    upload_abort: {
      doc: "Drops an upload and its temp file: true, or false when there was none.",
      example: 'func "web1" call file upload_abort 5f2a9c01b7e44d1c',
      params: [param("id", UPLOAD_ID)],
      async_allowed: false,
    },
    read: {
      doc: "Reads up to length bytes from offset of a regular file: {data (base64), size, offset, eof}. Read big files in chunks.",
      example: 'func "web1" call file read /etc/hostname',
      params: [
        param("path", ABSOLUTE_PATH),
        optional("offset", t.int({ min: 0 })),
        optional("length", t.int({ min: 0, max: MAX_READ_CHUNK })),
      ],
    },
    checksum: {
      doc: "SHA-256 (hex) of a regular file's content, read in bounded steps.",
      example: 'func "*" call file checksum /etc/passwd',
      params: [param("path", ABSOLUTE_PATH)],
    },
    stat: {
      doc: "{type, size, mode, uid, gid, mtime (epoch s)} of a path.",
      example: 'func "*" call file stat /etc/nginx/nginx.conf',
      params: [param("path", ABSOLUTE_PATH)],
    },
  },
});
