// Signatures of the `command` module: shell commands with a timeout, an environment and a directory.

import { defineModule, optional, param, t } from "./schema.js";
import { ABSOLUTE_PATH } from "./common.js";

/** Names an environment variable may have. */
export const ENV_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*";

export const COMMAND = defineModule({
  name: "command",
  description: "Run shell commands",
  methods: {
    run: {
      doc: "Runs cmd with /bin/sh -c; returns {rc, stdout, stderr, timed_out, truncated}. options: {timeout, env, cwd}. Extra CLI words join into cmd with spaces.",
      example: 'func "web*" call command run "uname -r"',
      params: [
        { ...param("cmd", t.string({ min_length: 1 }), "the shell command line"), join_words: true },
        optional(
          "options",
          t.struct({
            timeout: t.opt(t.number({ min: 0.001 }), "seconds (default command_timeout)"),
            env: t.opt(t.map(t.string(), { key_pattern: ENV_NAME_PATTERN }), "variables added to funcd's environment"),
            cwd: t.opt(ABSOLUTE_PATH, "working directory (default /)"),
          }),
        ),
      ],
    },
    exists: {
      doc: "True when path exists and is executable.",
      example: 'func "*" call command exists /usr/bin/python3',
      params: [param("path", t.string({ min_length: 1 }))],
    },
  },
});
