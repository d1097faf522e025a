// The `test` module: round trips and failures on demand, for checking a fleet and the framework itself.

import { setTimeout as sleep } from "node:timers/promises";
import { FuncError, TEST } from "@func/shared/core";
import { implement } from "../registry.js";

export const testModule = implement(TEST, {
  ping: () => 1,
  echo: (_ctx, value) => value,
  add: (_ctx, a, b) => {
    if (typeof a === "number" && typeof b === "number") return a + b;
    if (typeof a === "string" && typeof b === "string") return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    throw new FuncError("BadArguments", "test.add takes two numbers, two strings or two arrays");
  },
  sleep: async (ctx, t) => {
    await sleep(t * 1000, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
    return Date.now() / 1000;
  },
  explode: (_ctx, message) => {
    throw new Error(message ?? "test.explode was called");
  },
  bigint: () => 2 ** 32,
});
