// The `system` module: what this minion offers, read from the signature table (Python clients expect
// `listMethods` and `methodHelp` too); `inventory` serves the whole table, the minion's own modules included.

import { FUNC_VERSION, formatSignature, inventoryValue, SYSTEM } from "@func/shared/core";
import { implement } from "../registry.js";

export const systemModule = implement(SYSTEM, {
  list_modules: (ctx) => ctx.registry.modules(),
  list_methods: (ctx, module) => ctx.registry.methods(module),
  listMethods: (ctx) => ctx.registry.methods(),
  method_help: (ctx, method) => {
    const sig = ctx.registry.lookup(method).signature;
    return { signature: formatSignature(method, sig), doc: sig.doc, example: sig.example };
  },
  methodHelp: (ctx, method) => {
    const sig = ctx.registry.lookup(method).signature;
    return `${formatSignature(method, sig)}: ${sig.doc} Example: ${sig.example}`;
  },
  inventory: (ctx) => inventoryValue(FUNC_VERSION, ctx.registry.signatures()),
});
