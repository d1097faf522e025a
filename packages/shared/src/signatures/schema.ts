// The vocabulary of method signatures: parameter types with their constraints, and the builders the
// declaration files use. Plain data (it travels as-is in `system.inventory`); the TypeScript types derive
// the values each method's `run` receives, so modules need no casts.

import type { WireValue } from "../codec.js";

export interface StringType {
  readonly kind: "string";
  /** the whole string must match (anchored), as a regular expression source (`u` flag) */
  readonly pattern?: string;
  readonly min_length?: number;
  readonly max_length?: number;
}
/** Raw bytes: base64 on the wire, or a string taken as its UTF-8; `run` gets a Buffer. */
export interface BytesType {
  readonly kind: "bytes";
  readonly max_length?: number;
}
export interface IntType {
  readonly kind: "int";
  readonly min?: number;
  readonly max?: number;
}
export interface NumberType {
  readonly kind: "number";
  readonly min?: number;
  readonly max?: number;
}
export interface BoolType {
  readonly kind: "bool";
}
export interface EnumType<E extends string = string> {
  readonly kind: "enum";
  readonly values: readonly E[];
}
export interface Field<T extends TypeSpec = TypeSpec> {
  readonly type: T;
  readonly optional?: boolean;
  readonly doc?: string;
}
export type Fields = Readonly<Record<string, Field>>;
/** A struct with named fields; a field it does not name is refused. */
export interface StructType<F extends Fields = Fields> {
  readonly kind: "struct";
  readonly fields: F;
}
/** A struct used as a dictionary: any keys (matching key_pattern), values of one type. */
export interface MapType<T extends TypeSpec = TypeSpec> {
  readonly kind: "map";
  readonly values: T;
  readonly key_pattern?: string;
  readonly max_keys?: number;
}
export interface ArrayType<T extends TypeSpec = TypeSpec> {
  readonly kind: "array";
  readonly items: T;
  readonly min_items?: number;
  readonly max_items?: number;
}
/** Any wire value (test.echo): the method checks it itself. */
export interface AnyType {
  readonly kind: "any";
}

/** One parameter type (the `kind` names it). */
export type TypeSpec =
  | StringType
  | BytesType
  | IntType
  | NumberType
  | BoolType
  | EnumType
  | StructType
  | MapType
  | ArrayType
  | AnyType;
export type TypeKind = TypeSpec["kind"];

/** The value a method receives for a parameter of type T. */
export type ValueOf<T> = T extends StringType
  ? string
  : T extends BytesType
    ? Buffer
    : T extends IntType | NumberType
      ? number
      : T extends BoolType
        ? boolean
        : T extends EnumType<infer E>
          ? E
          : T extends StructType<infer F>
            ? StructValue<F>
            : T extends MapType<infer V>
              ? Record<string, Inner<V>>
              : T extends ArrayType<infer V>
                ? Inner<V>[]
                : WireValue;

/** A nested type's value; the general TypeSpec (no literal type known) stops the recursion at WireValue. */
type Inner<V> = TypeSpec extends V ? WireValue : ValueOf<V>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
export type StructValue<F extends Fields> = string extends keyof F
  ? Record<string, WireValue>
  : Simplify<
      { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Inner<F[K]["type"]> } & {
        -readonly [K in OptionalKeys<F>]?: Inner<F[K]["type"]>;
      }
    >;

export interface Param<T extends TypeSpec = TypeSpec> {
  readonly name: string;
  readonly type: T;
  /** may be left out (or sent as nil); `run` then gets `default`, or undefined when there is none */
  readonly optional?: boolean;
  readonly default?: WireValue;
  readonly doc?: string;
  /**
   * CLI words: the words left over after the other parameters took theirs join into this one with single
   * spaces, as ssh joins its command words (`call command run ls -la` runs "ls -la").
   */
  readonly join_words?: boolean;
}

/** The value `run` receives for one parameter. */
export type ArgOf<P> = P extends Param<infer T>
  ? P extends { optional: true }
    ? P extends { default: WireValue }
      ? ValueOf<T>
      : ValueOf<T> | undefined
    : ValueOf<T>
  : never;
type ArgsOfParams<P extends readonly Param[]> = { -readonly [K in keyof P]: ArgOf<P[K]> };
/** The argument tuple `run` receives for a method. */
export type ArgsOf<S extends MethodSignature> = ArgsOfParams<S["params"]>;

export interface MethodSignature {
  /** one line on what it does */
  readonly doc: string;
  /** the CLI example, as in Salt's modules */
  readonly example: string;
  readonly params: readonly Param[];
  /** false for methods that make no sense as background jobs (default true) */
  readonly async_allowed?: boolean;
}

export interface ModuleSignature {
  readonly name: string;
  readonly description: string;
  readonly methods: Readonly<Record<string, MethodSignature>>;
}

/** Builders: `t.int({ min: 1 })`, `t.struct({ timeout: t.opt(t.int()) })`. */
/** A method's full name, `module.method`: the module in lower case, the method as its module spells it. */
export const METHOD_NAME_RE = /^([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

export const t = {
  string: (c: Omit<StringType, "kind"> = {}): StringType => ({ kind: "string", ...c }),
  bytes: (c: Omit<BytesType, "kind"> = {}): BytesType => ({ kind: "bytes", ...c }),
  int: (c: Omit<IntType, "kind"> = {}): IntType => ({ kind: "int", ...c }),
  number: (c: Omit<NumberType, "kind"> = {}): NumberType => ({ kind: "number", ...c }),
  bool: (): BoolType => ({ kind: "bool" }),
  enum: <const E extends string>(values: readonly E[]): EnumType<E> => ({ kind: "enum", values }),
  struct: <const F extends Fields>(fields: F): StructType<F> => ({ kind: "struct", fields }),
  map: <T extends TypeSpec>(values: T, c: Omit<MapType, "kind" | "values"> = {}): MapType<T> => ({ kind: "map", values, ...c }),
  array: <T extends TypeSpec>(items: T, c: Omit<ArrayType, "kind" | "items"> = {}): ArrayType<T> => ({ kind: "array", items, ...c }),
  any: (): AnyType => ({ kind: "any" }),
  /** a required struct field */
  field: <T extends TypeSpec>(type: T, doc?: string): Field<T> => ({ type, ...(doc ? { doc } : {}) }),
  /** an optional struct field */
  opt: <T extends TypeSpec>(type: T, doc?: string): Field<T> & { optional: true } => ({ type, optional: true, ...(doc ? { doc } : {}) }),
} as const;

/** A required parameter. */
export function param<T extends TypeSpec>(name: string, type: T, doc?: string): Param<T> {
  return { name, type, ...(doc ? { doc } : {}) };
}

/** An optional parameter: `run` gets undefined when it is left out. */
export function optional<T extends TypeSpec>(name: string, type: T, doc?: string): Param<T> & { optional: true } {
  return { name, type, optional: true, ...(doc ? { doc } : {}) };
}

/** An optional parameter with a default: `run` always gets a value. */
export function withDefault<T extends TypeSpec>(
  name: string,
  type: T,
  value: DefaultOf<T>,
  doc?: string,
): Param<T> & { optional: true; default: WireValue } {
  return { name, type, optional: true, default: value, ...(doc ? { doc } : {}) };
}

/** What a default may be: a scalar of the parameter's type (struct defaults are written as the struct). */
type DefaultOf<T> = T extends StringType | EnumType ? string : T extends IntType | NumberType ? number : T extends BoolType ? boolean : WireValue;

/** Declares a module's signatures, keeping their literal types for `ArgsOf`. */
export function defineModule<const M extends ModuleSignature>(m: M): M {
  return m;
}

/**
 * `add(a: any, b?: int)`: the signature line of help output, one word per type (the constraints
 * are in `system.inventory`; func-web parses this line).
 */
export function formatSignature(name: string, sig: MethodSignature): string {
  return `${name}(${sig.params.map((p) => `${p.name}${p.optional ? "?" : ""}: ${p.type.kind}`).join(", ")})`;
}
