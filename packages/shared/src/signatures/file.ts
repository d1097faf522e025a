// Signatures of the `file` module: write, read in chunks, checksum and stat files under the allowed roots.

import { ABSOLUTE_PATH } from "./common.js";
import { defineModule, optional, param, t } from "./schema.js";

/** Largest chunk `file.read` returns, bytes. */
export const MAX_READ_CHUNK = 16 * 1024 * 1024;

export const FILE = defineModule({
  name: "file",
  description: "Write, read, checksum and stat files under the allowed roots",
  methods: {
    write: {
      doc: "Writes data (text or base64 bytes) atomically; {written: false} when the content is already there. options: {mode}.",
      example: 'func "web*" call file write /etc/motd "hello\\n"',
      params: [
        param("path", ABSOLUTE_PATH),
        param("data", t.bytes()),
        optional("options", t.struct({ mode: t.opt(t.int({ min: 0, max: 0o7777 }), "permission bits, e.g. 420 (0644)") })),
      ],
    },
    read: {
      doc: "Reads up to length bytes from offset: {data (base64), size, offset, eof}. Read big files in chunks.",
      example: 'func "web1" call file read /etc/hostname',
      params: [
        param("path", ABSOLUTE_PATH),
        optional("offset", t.int({ min: 0 })),
        optional("length", t.int({ min: 0, max: MAX_READ_CHUNK })),
      ],
    },
    checksum: {
      doc: "SHA-256 (hex) of a file's content.",
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
