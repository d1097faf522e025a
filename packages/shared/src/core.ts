// The light part of @func/shared: errors, outcomes, job ids and statuses, homes, names, globs, atomic files,
// process checks, the delegation wire rules, the signature table and store format versions, with no codec, PKI
// or LMDB behind them.
// The async job runner (one Node process per `async.` call) and the minion modules it loads import from here:
// a runner never loads the XML-RPC codec.
// The same files are re-exported by the package's main entry: classes such as FuncError are one and the same.

export * from "./errors.js";
export * from "./outcomes.js";
export * from "./job-status.js";
export * from "./home.js";
export * from "./names.js";
export * from "./fd-paths.js";
export * from "./file-hash.js";
export * from "./glob.js";
export * from "./process-check.js";
export * from "./detached-spawn.js";
export * from "./delegation-wire.js";
export * from "./files.js";
export * from "./signatures/index.js";
export * from "./fact-filter.js";
export * from "./store-format.js";
export * from "./format-file.js";
