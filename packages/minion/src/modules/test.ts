// The `test` module: round trips and failures on demand, for checking a fleet and the framework itself.

import { setTimeout as sleep } from "node:timers/promises";
import type { WireValue } from "@func/shared";
import { FuncError } from "@func/shared/core";
import type { FuncModule } from "../registry.js";

/** Longest `test.sleep` allowed: a day; longer is surely a typo. */
const MAX_SLEEP_S = 24 * 60 * 60;

export const testModule: FuncModule = {
  name: "test",
  description: "Connectivity and round-trip checks",
  methods: {
    ping: {
      doc: "Answers 1: the minion is up and lets you in.",
      example: 'func "*" call test ping',
      params: [],
      run: () => 1,
    },
    echo: {
      doc: "Returns its argument unchanged (any XML-RPC value).",
      example: 'func "*" call test echo \'{"a": [1, 2.5, true, null]}\'',
      params: [{ name: "value", type: "any" }],
      run: (_ctx, value) => value!,
    },
    add: {
      doc: "Adds two numbers, or concatenates two strings.",
      example: 'func "*" call test add 1 2',
      params: [
        { name: "a", type: "any" },
        { name: "b", type: "any" },
      ],
      run: (_ctx, a, b) => {
        if (typeof a === "number" && typeof b === "number") return a + b;
        if (typeof a === "string" && typeof b === "string") return a + b;
        if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
        throw new FuncError("BadArguments", "test.add takes two numbers, two strings or two arrays");
      },
    },
    sleep: {
      doc: "Sleeps for t seconds, then returns the time it woke (epoch seconds).",
      example: 'func "*" call test sleep 2',
      params: [{ name: "t", type: "number" }],
      run: async (ctx, t) => {
        const s = t as number;
        if (s < 0 || s > MAX_SLEEP_S) throw new FuncError("BadArguments", `test.sleep: t must be 0..${MAX_SLEEP_S} seconds`);
        await sleep(s * 1000, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
        return Date.now() / 1000;
      },
    },
    explode: {
      doc: "Always raises: shows what a failing method looks like.",
      example: 'func "*" call test explode',
      params: [{ name: "message", type: "string", optional: true }],
      run: (_ctx, message) => {
        throw new Error(typeof message === "string" ? message : "test.explode was called");
      },
    },
    bigint: {
      doc: "Returns 2**32: checks that 64-bit integers survive the wire (i8).",
      example: 'func "*" call test bigint',
      params: [],
      run: (): WireValue => 2 ** 32,
    },
  },
};
