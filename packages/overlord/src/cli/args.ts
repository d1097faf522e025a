// Command-line words -> call arguments: typed by the method's signature (the built-in table, else the
// minions' cached inventories) through typeWords of @func/shared; methods nothing declares keep the
// generic typing (coerceArg). --str keeps every word a string.

import { coerceArg, findSignature, typeWords } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";

export { coerceArg };

export function coerceArgs(raw: readonly (string | number)[], keepStrings: boolean): unknown[] {
  return raw.map((a) => (keepStrings ? String(a) : coerceArg(String(a))));
}

/**
 * The arguments of `func <spec> call module method words..`. A built-in method needs no network; another
 * is looked up in the targeted minions' cached inventories (fetched once when none is cached).
 */
export async function callArgs(spec: string, module: string, method: string, words: readonly string[], keepStrings: boolean, opts: OverlordOptions): Promise<unknown[]> {
  let sig = findSignature(module, method);
  if (!sig && !keepStrings) {
    const overlord = new Overlord(spec, { ...opts, keepAlive: false });
    try {
      sig = await overlord.signature(module, method, { fetch: true });
    } finally {
      await overlord.close();
    }
  }
  return typeWords(`${module}.${method}`, sig, words, keepStrings);
}
