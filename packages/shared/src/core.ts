// The light part of @func/shared: errors, outcomes, job ids and statuses, homes and names, with no codec,
// PKI or LMDB behind them. The async job runner (one Node process per `async.` call) and the minion modules
// it loads import from here, so that starting a runner does not load the XML-RPC codec it never uses.
// The same files are re-exported by the package's main entry: classes such as FuncError are one and the same.

export * from "./errors.js";
export * from "./outcomes.js";
export * from "./job-status.js";
export * from "./home.js";
export * from "./names.js";
export * from "./signatures/schema.js";
export * from "./signatures/check.js";
export * from "./signatures/words.js";
export * from "./signatures/table.js";
export * from "./signatures/inventory.js";
export * from "./signatures/common.js";
export * from "./signatures/test.js";
export * from "./signatures/command.js";
export * from "./signatures/system.js";
export * from "./signatures/file.js";
export * from "./signatures/hardware.js";
export * from "./signatures/disk.js";
export * from "./signatures/process.js";
export * from "./signatures/service.js";
export * from "./signatures/jobs.js";
