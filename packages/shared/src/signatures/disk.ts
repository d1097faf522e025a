// Signatures of the `disk` module: file system usage.

import { ABSOLUTE_PATH } from "./common.js";
import { defineModule, optional } from "./schema.js";

export const DISK = defineModule({
  name: "disk",
  description: "File system usage",
  methods: {
    usage: {
      doc: "Usage per mount point from df: {mount: {device, fstype, total, used, available, percentage}} (bytes).",
      example: 'func "*" call disk usage /var',
      params: [optional("path", ABSOLUTE_PATH)],
    },
  },
});
