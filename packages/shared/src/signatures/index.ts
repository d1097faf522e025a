// The signature table: the vocabulary (schema), the checks both sides run, CLI-word typing, minions'
// inventories, and one file of declarations per built-in module.
export * from "./schema.js";
export * from "./check.js";
export * from "./words.js";
export * from "./table.js";
export * from "./inventory.js";
export * from "./common.js";
export * from "./test.js";
export * from "./command.js";
export * from "./system.js";
export * from "./file.js";
export * from "./hardware.js";
export * from "./disk.js";
export * from "./process.js";
export * from "./service.js";
export * from "./jobs.js";
export * from "./sysctl.js";
export * from "./users.js";
export * from "./filetracker.js";
export * from "./mount.js";
export * from "./portinfo.js";
export * from "./network.js";
export * from "./packages.js";
export * from "./reboot.js";
export * from "./delegation.js";
export * from "./facts.js";
