// Signatures of the `test` module: round trips and failures on demand.

import { defineModule, optional, param, t } from "./schema.js";

/** Longest `test.sleep` allowed: a day; longer is surely a typo. */
export const MAX_SLEEP_S = 24 * 60 * 60;

export const TEST = defineModule({
  name: "test",
  description: "Connectivity and round-trip checks",
  methods: {
    ping: { doc: "Answers 1: the minion is up and lets you in.", example: 'func "*" call test ping', params: [] },
    echo: {
      doc: "Returns its argument unchanged (any XML-RPC value).",
      example: 'func "*" call test echo \'{"a": [1, 2.5, true, null]}\'',
      params: [param("value", t.any())],
    },
    add: {
      doc: "Adds two numbers, or concatenates two strings or two arrays.",
      example: 'func "*" call test add 1 2',
      params: [param("a", t.any()), param("b", t.any())],
    },
    sleep: {
      doc: "Sleeps for t seconds, then returns the time it woke (epoch seconds).",
      example: 'func "*" call test sleep 2',
      params: [param("t", t.number({ min: 0, max: MAX_SLEEP_S }), "seconds")],
    },
    explode: {
      doc: "Always raises: shows what a failing method looks like.",
      example: 'func "*" call test explode',
      params: [optional("message", t.string())],
    },
    bigint: { doc: "Returns 2**32: checks that 64-bit integers survive the wire (i8).", example: 'func "*" call test bigint', params: [] },
  },
});
