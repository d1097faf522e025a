// What each minion's `system.inventory()` said, kept in the overlord home (<state>/signatures/<host>.json)
// with that minion's funcd version: the signatures of methods the built-in table does not know (a
// minion's own modules), for typing CLI words and checking a call before fan-out.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  FORMAT_FIELD,
  STORE_FORMATS,
  checkFileFormat,
  findSignature,
  isValidMinionName,
  parseInventory,
  SIGNATURES,
  writeFileAtomic,
  type HomePaths,
  type Inventory,
  type MethodSignature,
  type ModuleSignature,
} from "@func/shared";

/** How long a cached inventory is used before it is asked for again, seconds (a funcd upgrade shows then). */
export const INVENTORY_TTL_S = 24 * 60 * 60;
/** Most hosts whose caches are read for one unknown method: a fleet's minions mostly serve the same. */
const MAX_HOSTS_SCANNED = 64;
/** Largest cached inventory file read back, bytes. */
const MAX_CACHE_BYTES = 4 * 1024 * 1024;

interface CachedInventory extends Inventory {
  /** when it was fetched, epoch seconds */
  fetched: number;
}

function cacheFile(paths: HomePaths, host: string): string {
  return join(paths.stateDir, "signatures", `${host}.json`);
}

/** The host's cached inventory, or undefined when there is none, it is stale, it does not parse or a newer func wrote it. */
export function cachedInventory(paths: HomePaths, host: string, nowS = Date.now() / 1000): CachedInventory | undefined {
  if (!isValidMinionName(host)) return undefined;
  try {
    const text = readFileSync(cacheFile(paths, host), "utf8");
    if (text.length > MAX_CACHE_BYTES) return undefined;
    const raw = JSON.parse(text) as { fetched?: unknown };
    // a cache: one this func cannot read is fetched again rather than refused
    checkFileFormat(STORE_FORMATS.signatureCache, cacheFile(paths, host), raw);
    const fetched = typeof raw.fetched === "number" ? raw.fetched : 0;
    if (nowS - fetched > INVENTORY_TTL_S || fetched > nowS + 60) return undefined;
    return { ...parseInventory(raw), fetched };
  } catch {
    return undefined;
  }
}

/** Stores a host's `system.inventory()` answer (checked first: a malformed one is not kept). */
export function storeInventory(paths: HomePaths, host: string, answer: unknown, nowS = Date.now() / 1000): Inventory | undefined {
  if (!isValidMinionName(host)) return undefined;
  let inventory: Inventory;
  try {
    inventory = parseInventory(answer);
  } catch {
    return undefined;
  }
  writeFileAtomic(cacheFile(paths, host), JSON.stringify({ [FORMAT_FIELD]: STORE_FORMATS.signatureCache.version, ...inventory, fetched: Math.floor(nowS) }));
  return inventory;
}

/**
 * The signature of `module.method` for these hosts: the built-in table's, else the first cached
 * inventory (of these hosts) that declares it; undefined when neither knows it.
 */
export function knownSignature(paths: HomePaths, hosts: readonly string[], module: string, method: string): MethodSignature | undefined {
  const builtIn = findSignature(module, method, SIGNATURES);
  if (builtIn) return builtIn;
  for (const host of hosts.slice(0, MAX_HOSTS_SCANNED)) {
    const inv = cachedInventory(paths, host);
    const sig = inv && findSignature(module, method, inv.modules);
    if (sig) return sig;
  }
  return undefined;
}

/** True when some of these hosts have a fresh cached inventory. */
export function hasCachedInventory(paths: HomePaths, hosts: readonly string[]): boolean {
  return hosts.slice(0, MAX_HOSTS_SCANNED).some((h) => cachedInventory(paths, h) !== undefined);
}

/**
 * Every method these hosts are known to serve: the built-in table, plus the modules and methods their cached
 * inventories declare that it does not (a minion's own modules), each taken from the first host declaring it.
 */
export function knownTable(paths: HomePaths, hosts: readonly string[]): ModuleSignature[] {
  const table = new Map<string, ModuleSignature>(SIGNATURES.map((m) => [m.name, m]));
  for (const host of hosts.slice(0, MAX_HOSTS_SCANNED)) {
    for (const mod of cachedInventory(paths, host)?.modules ?? []) {
      const known = table.get(mod.name);
      const extra = Object.entries(mod.methods).filter(([name]) => !known || !Object.hasOwn(known.methods, name));
      if (extra.length === 0) continue;
      table.set(mod.name, {
        name: mod.name,
        description: known?.description ?? mod.description,
        methods: { ...(known?.methods ?? {}), ...Object.fromEntries(extra) },
      });
    }
  }
  return [...table.values()];
}
