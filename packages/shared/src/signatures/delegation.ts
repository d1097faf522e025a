// Signatures of the `delegation` module: a sub-overlord runs a share of a call on its leaves, pages the
// results and tells its tree (DESIGN section 12). None may run as an async job itself.

import { defineModule, optional, param, t } from "./schema.js";

const JOB_ID = t.string({ max_length: 100 });

export const DELEGATION = defineModule({
  name: "delegation",
  description: "Sub-overlord: run a share of a call on the leaves this host serves, page its results, tell its tree",
  methods: {
    run: {
      doc: "Starts one share of a call on leaves this host serves; answers {id, started}. The ACL checks the relayed method, not this one.",
      example: 'func "sub1" call delegation run 20261122T201233-5f2a9c01b7 test ping "[]" \'["leaf01","leaf02"]\' "{}"',
      params: [
        param("id", JOB_ID, "the job id: the idempotency key of the share"),
        param("module", t.string({ pattern: "[a-z_][a-z0-9_]*", max_length: 64 })),
        param("method", t.string({ pattern: "[A-Za-z_][A-Za-z0-9_]*", max_length: 64 })),
        param("args", t.array(t.any())),
        param("leaves", t.array(t.any()), "the leaves of this share"),
        param(
          "options",
          t.struct({ timeout_ms: t.opt(t.number()), async: t.opt(t.bool()), fold: t.opt(t.bool()) }),
          "{timeout_ms, async, fold}",
        ),
      ],
      async_allowed: false,
    },
    poll: {
      doc: "The next page of a share's results from cursor on: {lines: [{hosts, result}] (with as_text, each line its JSON text), cursor, done, alive}; waits up to wait_ms for a new line.",
      example: 'func "sub1" call delegation poll 20261122T201233-5f2a9c01b7 0',
      params: [
        param("id", JOB_ID),
        param("cursor", t.int({ min: 0 })),
        optional("wait_ms", t.int()),
        optional("as_text", t.bool(), "each line as its JSON text (a string): far cheaper to decode than XML structs"),
      ],
      async_allowed: false,
    },
    map: {
      doc: "The tree of leaves this host serves as a sub-overlord ({name, leaves, subs}), asking its own sub-overlords; null when it is not one.",
      example: 'func "sub1" call delegation map',
      params: [],
      async_allowed: false,
    },
  },
});
