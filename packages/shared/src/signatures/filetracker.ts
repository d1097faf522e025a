// Signatures of the `filetracker` module: files whose metadata and checksum the minion keeps track of.

import { INVENTORY_METHOD } from "./common.js";
import { defineModule, param, t } from "./schema.js";

/** An absolute glob: `*`, `?` and `[...]` within one path segment. */
export const PATH_GLOB = t.string({ pattern: "/[^\\u0000]*", max_length: 4096 });
const GLOBS = t.array(PATH_GLOB, { min_items: 1, max_items: 256 });

export const FILETRACKER = defineModule({
  name: "filetracker",
  description: "Track files: mode, owner, size, mtime and sha256, and what changed since the last inventory",
  methods: {
    track: { doc: "Adds absolute globs to the tracked list; returns the list.", example: 'func "*" call filetracker track /etc/hosts "/etc/*.conf"', params: [param("globs", GLOBS)] },
    untrack: { doc: "Removes globs from the tracked list; returns the list.", example: 'func "*" call filetracker untrack "/etc/*.conf"', params: [param("globs", GLOBS)] },
    list: { doc: "The tracked globs.", example: 'func "*" call filetracker list', params: [] },
    inventory: INVENTORY_METHOD("filetracker", "{path: {mode, uid, gid, owner, group, size, mtime, sha256}} of every tracked file (kept for diff)"),
    diff: {
      doc: "What changed since the last inventory: {added: [path], removed: [path], changed: {path: {field: [before, now]}}}.",
      example: 'func "*" call filetracker diff',
      params: [],
    },
  },
});
