// GET /api/modules: the method table the run page builds its forms from, from the signature table of
// @func/shared plus the methods the minions' cached `system.inventory()` answers declare (their own modules).

import { formatSignature, SIGNATURES, type ModuleSignature, type Param } from "@func/shared";
import type { Overlord } from "@func/overlord";

export interface ParamView {
  name: string;
  /** the signature's type kind: string, bytes, int, number, bool, enum, struct, map, array, any */
  type: string;
  optional: boolean;
  /** the CLI joins the words left over into this one (command.run's command) */
  rest: boolean;
  doc?: string;
  /** an enum's values */
  values?: string[];
}

export interface MethodView {
  name: string;
  doc: string;
  example: string;
  /** `add(a: any, b: any)`, as system.method_help prints it */
  signature: string;
  params: ParamView[];
}

export interface ModuleTable {
  source: string;
  modules: Array<{ module: string; description: string; methods: MethodView[] }>;
}

function paramView(p: Param): ParamView {
  return {
    name: p.name,
    type: p.type.kind,
    optional: p.optional === true,
    rest: p.join_words === true,
    ...(p.doc ? { doc: p.doc } : {}),
    ...(p.type.kind === "enum" ? { values: [...p.type.values] } : {}),
  };
}

/** The page's view of a signature table: modules and methods sorted by name. */
export function moduleTable(table: readonly ModuleSignature[], source: string): ModuleTable {
  return {
    source,
    modules: [...table]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((m) => ({
        module: m.name,
        description: m.description,
        methods: Object.entries(m.methods)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([name, sig]) => ({ name, doc: sig.doc, example: sig.example, signature: formatSignature(`${m.name}.${name}`, sig), params: sig.params.map(paramView) })),
      })),
  };
}

export class ModuleTableSource {
  readonly #overlord: Overlord;

  constructor(overlord: Overlord) {
    this.#overlord = overlord;
  }

  /** The built-in table and what the enrolled minions' cached inventories add (read per request: files only). */
  get(): ModuleTable {
    let table: readonly ModuleSignature[] = SIGNATURES;
    try {
      table = this.#overlord.signatureTable();
    } catch {
      // no minion enrolled yet: the built-in table alone
    }
    return moduleTable(table, table === SIGNATURES ? "signature table" : "signature table and minion inventories");
  }
}
