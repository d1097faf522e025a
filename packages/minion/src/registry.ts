// The module registry: a module is a name plus a map of methods (as in Func). Each method is declared in
// the signature table of @func/shared; the registry checks every call against it before the method runs.

import type { HomePaths, MinionConfig, WireValue } from "@func/shared";
import { FAULT, FuncError, METHOD_NAME_RE, checkArgs, type ArgsOf, type MethodSignature, type ModuleSignature } from "@func/shared/core";

/** What a method sees of the call: who asked, from where, and the minion's own settings. */
export interface CallContext {
  peerCn: string;
  peerRole: string | null;
  address: string;
  config: MinionConfig;
  paths: HomePaths;
  registry: Registry;
  /** set when the method runs as an async job */
  jobId?: string;
  /** aborted when the caller goes away (sync) or never (async) */
  signal?: AbortSignal;
  /** the minion's async jobs (the `jobs` module reads them); absent when funcd runs without a job store */
  jobs?: JobsService;
  /**
   * who the call is for: the peer's CN, or the original caller an overlord-role peer relayed it for
   * (CALLER_HEADER); and the sub-overlords it came through (PATH_HEADER), top first (DESIGN section 12)
   */
  caller?: string;
  path?: string[];
}

/** Who is asking about jobs: a peer that is not the overlord sees only the jobs it started. */
export interface JobCaller {
  cn: string;
  role: string | null;
}

/** The minion's async jobs as the `jobs` module sees them (DESIGN section 6). */
export interface JobsService {
  /** `[code, result]` with Func's codes: 0 RUNNING, 1 FINISHED, 2 LOST_IN_SPACE, 4 REMOTE_ERROR */
  status(id: string, caller: JobCaller): [number, WireValue];
  /** job records, newest first, without their results */
  list(caller: JobCaller, limit?: number): WireValue[];
  /** deletes jobs that ended more than `olderThanS` seconds ago; returns how many */
  purge(olderThanS: number, caller: JobCaller): number;
}

/** A method as the minion serves it: its declaration from the signature table and its implementation. */
export interface MethodSpec {
  readonly signature: MethodSignature;
  /** gets the values checkArgs returned: typed as the signature says */
  run(ctx: CallContext, ...args: unknown[]): Promise<WireValue> | WireValue;
  /**
   * the method name the ACL checks instead of this one (delegation.run checks the method it relays, so
   * delegating never widens a caller's rights); null: the method checks its caller itself
   */
  readonly aclName?: AclName;
}

/** Names the method the ACL checks for a call, from its (unchecked) wire arguments; null: the method checks. */
export type AclName = (args: readonly WireValue[]) => string | null;

export interface FuncModule {
  readonly name: string;
  readonly description: string;
  readonly methods: Readonly<Record<string, MethodSpec>>;
  /** the module's declarations, as system.inventory serves them */
  readonly signature: ModuleSignature;
}

/** The implementation of every method a module signature declares, each typed by its parameters. */
export type Implementation<M extends ModuleSignature> = {
  readonly [K in keyof M["methods"]]: (ctx: CallContext, ...args: ArgsOf<M["methods"][K]>) => Promise<WireValue> | WireValue;
};

/**
 * A module from its signatures and its implementation (and, for methods the ACL checks under another name,
 * how to name it). The registry hands `run` only values checkArgs accepted, so the typed signature
 * `Implementation` promises holds.
 */
export function implement<const M extends ModuleSignature>(
  sig: M,
  impl: Implementation<M>,
  aclNames: { readonly [K in keyof M["methods"]]?: AclName } = {},
): FuncModule {
  const methods: Record<string, MethodSpec> = {};
  for (const [name, signature] of Object.entries(sig.methods)) {
    const run = impl[name as keyof M["methods"]] as unknown as MethodSpec["run"] | undefined;
    if (typeof run !== "function") throw new Error(`${sig.name}.${name} is declared but not implemented`);
    const aclName = aclNames[name as keyof M["methods"]];
    methods[name] = { signature, run, ...(aclName ? { aclName } : {}) };
  }
  for (const name of Object.keys(impl)) {
    if (!Object.hasOwn(sig.methods, name)) throw new Error(`${sig.name}.${name} is implemented but not declared`);
  }
  return { name: sig.name, description: sig.description, methods, signature: sig };
}

export class Registry {
  readonly #modules = new Map<string, FuncModule>();

  constructor(modules: readonly FuncModule[]) {
    for (const mod of modules) {
      if (this.#modules.has(mod.name)) throw new Error(`module ${mod.name} registered twice`);
      for (const method of Object.keys(mod.methods)) {
        if (!METHOD_NAME_RE.test(`${mod.name}.${method}`)) throw new Error(`bad method name ${mod.name}.${method}`);
      }
      this.#modules.set(mod.name, mod);
    }
  }

  /** The method behind `module.method`, or a NoSuchMethod error (a fault 2, never an HTTP 404). */
  lookup(name: string): MethodSpec {
    const dot = name.indexOf(".");
    const mod = dot > 0 ? this.#modules.get(name.slice(0, dot)) : undefined;
    const methodName = name.slice(dot + 1);
    const spec = mod && Object.hasOwn(mod.methods, methodName) ? mod.methods[methodName] : undefined;
    if (!spec) throw new FuncError("NoSuchMethod", `no method named "${name.slice(0, 200)}"`);
    return spec;
  }

  /** The arguments `run` gets: checked against the method's signature (BadArguments naming the argument). */
  checkArgs(name: string, spec: MethodSpec, args: readonly WireValue[]): unknown[] {
    return checkArgs(name, spec.signature, args);
  }

  modules(): string[] {
    return [...this.#modules.keys()].sort();
  }

  methods(moduleName?: string): string[] {
    const out: string[] = [];
    for (const mod of this.#modules.values()) {
      if (moduleName !== undefined && mod.name !== moduleName) continue;
      for (const method of Object.keys(mod.methods)) out.push(`${mod.name}.${method}`);
    }
    return out.sort();
  }

  module(name: string): FuncModule | undefined {
    return this.#modules.get(name);
  }

  /** Every module's signatures, sorted by name: what system.inventory serves. */
  signatures(): ModuleSignature[] {
    return this.modules().map((m) => this.#modules.get(m)!.signature);
  }
}

/**
 * The fault for a failed call: wire codes pass through, local error codes (100+) become "method raised".
 * The async runner uses it too, for REMOTE_ERROR results.
 */
export function faultFor(err: unknown): { code: number; text: string; outcome: string } {
  if (err instanceof FuncError) {
    const onWire = err.code < 100;
    return { code: onWire ? err.code : FAULT.METHOD_RAISED, text: err.faultString, outcome: err.code === FAULT.ACCESS_DENIED ? "denied" : "error" };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: FAULT.METHOD_RAISED, text: `${e.name === "Error" ? "MethodError" : e.name}: ${e.message}`, outcome: "error" };
}
