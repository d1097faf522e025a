// `func <spec> show hardware|facts [keys..]` (Func's show): hardware.info or facts.get on every host, cut
// down to the keys asked for, printed as any call's results are.

import { FuncError, type HostResult, type WireValue } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { printResults, printSelection, type Io, type OutputOptions } from "./call.js";

/** What `show` can show, and the method behind each. */
const SHOWN = { hardware: ["hardware", "info"], facts: ["facts", "get"] } as const;

function pick(result: HostResult, keys: readonly string[]): HostResult {
  if (result.outcome !== "ok" || keys.length === 0) return result;
  const v = result.value;
  if (v === null || typeof v !== "object" || Array.isArray(v) || Buffer.isBuffer(v)) return result;
  // one key: its value alone, as Func printed it
  if (keys.length === 1) return { ...result, value: Object.hasOwn(v, keys[0]!) ? v[keys[0]!]! : null };
  const out: Record<string, WireValue> = {};
  for (const k of keys) out[k] = Object.hasOwn(v, k) ? v[k]! : null;
  return { ...result, value: out };
}

export async function showCommand(spec: string, what: string | undefined, keys: readonly string[], opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  if (what !== "hardware" && what !== "facts") throw new FuncError("UsageError", `show takes hardware or facts, then keys if you want some, e.g. func "*" show facts os kernel`);
  const [module, method] = SHOWN[what];
  const overlord = new Overlord(spec, { ...opts, keepAlive: false });
  try {
    const total = overlord.hosts().length;
    async function* picked() {
      for await (const { host, result } of overlord.stream(module, method, [])) yield { host, result: pick(result, keys) };
    }
    const code = await printResults(picked(), total, out, io);
    return code | printSelection(overlord, io);
  } finally {
    await overlord.close();
  }
}
