// The light part of @func/shared: errors, outcomes, job ids and statuses, homes, names, globs, atomic files,
// process checks, the delegation wire rules and the signature table, with no codec, PKI or LMDB behind them.
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
export * from "./signatures/sysctl.js";
export * from "./signatures/users.js";
export * from "./signatures/filetracker.js";
export * from "./signatures/mount.js";
export * from "./signatures/portinfo.js";
export * from "./signatures/network.js";
export * from "./signatures/packages.js";
export * from "./signatures/reboot.js";
export * from "./signatures/delegation.js";
export * from "./signatures/facts.js";
export * from "./fact-filter.js";
