// GET /api/modules: the method table the run page builds its forms from. Until @func/shared carries the
// signature table, it is read from a minion that answers (system.list_methods, then system.method_help for
// each method, whose signature `m.f(a: int, b?: string, ...rest: any)` gives typed parameters), kept a while.

import type { Overlord } from "@func/overlord";

/** How long a table read from a minion is served before it is read again, ms. */
const TABLE_TTL_MS = 5 * 60_000;
/** Minions tried, one after the other, until one answers. */
const TRIES = 5;

export interface ParamView {
  name: string;
  type: string;
  optional: boolean;
  rest: boolean;
}

export interface MethodView {
  name: string;
  doc: string;
  example: string;
  params: ParamView[];
}

export interface ModuleTable {
  source: string;
  modules: Array<{ module: string; methods: MethodView[] }>;
}

/** Parses a signature as funcd's system.method_help gives it. */
export function parseSignature(signature: string): ParamView[] {
  const m = /^[\w.]+\((.*)\)$/.exec(signature.trim());
  if (!m || m[1]!.trim() === "") return [];
  return m[1]!.split(",").map((part) => {
    const p = /^\s*(\.\.\.)?([\w]+)(\?)?\s*:\s*(\w+)\s*$/.exec(part);
    if (!p) return { name: part.trim(), type: "any", optional: true, rest: false };
    return { name: p[2]!, type: p[4]!, optional: p[3] === "?" || p[1] === "...", rest: p[1] === "..." };
  });
}

export class ModuleTableSource {
  readonly #overlord: Overlord;
  #cached: { at: number; table: ModuleTable } | null = null;
  #loading: Promise<ModuleTable> | null = null;

  constructor(overlord: Overlord) {
    this.#overlord = overlord;
  }

  get(hosts: readonly string[], now = Date.now()): Promise<ModuleTable> {
    if (this.#cached && now - this.#cached.at < TABLE_TTL_MS) return Promise.resolve(this.#cached.table);
    this.#loading ??= this.#read(hosts).finally(() => (this.#loading = null));
    return this.#loading;
  }

  async #ask(host: string, method: string, params: unknown[]): Promise<unknown> {
    let out: unknown = undefined;
    let failed = "";
    await this.#overlord.fanOut(this.#overlord.addresses([host]), { method, params, timeoutMs: this.#overlord.timeoutMs }, (_h, r) => {
      if (r.outcome === "ok") out = r.value;
      else failed = `${r.outcome}: ${r.error.message}`;
    }, { forks: 1 });
    if (failed) throw new Error(failed);
    return out;
  }

  async #read(hosts: readonly string[]): Promise<ModuleTable> {
    let lastError = "no minion is enrolled";
    for (const host of hosts.slice(0, TRIES)) {
      try {
        const names = await this.#ask(host, "system.list_methods", []);
        if (!Array.isArray(names)) throw new Error("system.list_methods did not answer a list");
        const byModule = new Map<string, MethodView[]>();
        const methods = names.filter((n): n is string => typeof n === "string" && /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(n)).sort();
        await Promise.all(
          methods.map(async (full) => {
            const help = (await this.#ask(host, "system.method_help", [full]).catch(() => null)) as { signature?: unknown; doc?: unknown; example?: unknown } | null;
            const [module, name] = full.split(".") as [string, string];
            const view: MethodView = {
              name,
              doc: typeof help?.doc === "string" ? help.doc : "",
              example: typeof help?.example === "string" ? help.example : "",
              params: typeof help?.signature === "string" ? parseSignature(help.signature) : [],
            };
            byModule.set(module, [...(byModule.get(module) ?? []), view]);
          }),
        );
        const table: ModuleTable = {
          source: `minion ${host}`,
          modules: [...byModule.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([module, ms]) => ({ module, methods: ms.sort((a, b) => (a.name < b.name ? -1 : 1)) })),
        };
        this.#cached = { at: Date.now(), table };
        return table;
      } catch (err) {
        lastError = `${host}: ${(err as Error).message}`;
      }
    }
    throw new Error(`cannot read the method table from a minion (${lastError})`);
  }
}
