// The module registry: a module is a name plus a map of methods (as in Func). Each method declares its
// parameters, so arguments are checked before the method runs and `system.method_help` can show them.

import type { HomePaths, MinionConfig, WireValue } from "@func/shared";
import { FAULT, FuncError } from "@func/shared/core";

export type ParamType = "string" | "int" | "number" | "boolean" | "array" | "struct" | "any";

export interface ParamSpec {
  name: string;
  type: ParamType;
  optional?: boolean;
  doc?: string;
}

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

export interface MethodSpec {
  /** one line on what it does */
  doc: string;
  /** the CLI example, as in Salt's modules */
  example: string;
  params: readonly ParamSpec[];
  /** extra trailing arguments of this type are accepted */
  rest?: ParamSpec;
  run(ctx: CallContext, ...args: WireValue[]): Promise<WireValue> | WireValue;
  /** false for methods that make no sense as background jobs (default true) */
  asyncAllowed?: boolean;
  /**
   * the method name the ACL checks instead of this one (delegation.run checks the method it relays, so
   * delegating never widens a caller's rights); null: the method checks its caller itself
   */
  aclName?: (args: readonly WireValue[]) => string | null;
}

export interface FuncModule {
  name: string;
  description: string;
  methods: Readonly<Record<string, MethodSpec>>;
}

const METHOD_NAME_RE = /^[a-z_][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;

function typeOf(value: WireValue): ParamType {
  if (value === null) return "any";
  if (Array.isArray(value)) return "array";
  if (Buffer.isBuffer(value)) return "string";
  switch (typeof value) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "number":
      return Number.isInteger(value) ? "int" : "number";
    default:
      return "struct";
  }
}

function accepts(type: ParamType, value: WireValue): boolean {
  if (type === "any") return true;
  const actual = typeOf(value);
  if (type === "number") return actual === "int" || actual === "number";
  return actual === type;
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

  /** Checks argument count and types against the method's declaration. */
  checkArgs(name: string, spec: MethodSpec, args: readonly WireValue[]): void {
    const required = spec.params.filter((p) => !p.optional).length;
    const max = spec.rest ? Infinity : spec.params.length;
    if (args.length < required || args.length > max) {
      const want = required === max ? `${required}` : max === Infinity ? `at least ${required}` : `${required} to ${max}`;
      throw new FuncError("BadArguments", `${name} takes ${want} argument(s), got ${args.length}${usage(name, spec)}`);
    }
    args.forEach((value, i) => {
      const param = spec.params[i] ?? spec.rest!;
      if (value === null && param.optional) return;
      if (!accepts(param.type, value)) {
        throw new FuncError("BadArguments", `${name}: argument ${i + 1} (${param.name}) must be ${param.type}, got ${typeOf(value)}${usage(name, spec)}`);
      }
    });
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
}

function usage(name: string, spec: MethodSpec): string {
  return ` (usage: ${spec.example || name})`;
}

/** Signature line for help output: `add(a: number, b: number)`. */
export function signature(name: string, spec: MethodSpec): string {
  const params = spec.params.map((p) => `${p.name}${p.optional ? "?" : ""}: ${p.type}`);
  if (spec.rest) params.push(`...${spec.rest.name}: ${spec.rest.type}`);
  return `${name}(${params.join(", ")})`;
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
