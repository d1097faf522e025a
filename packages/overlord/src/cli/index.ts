// The command line's parts for tests and tools that drive `func` in-process (`@func/overlord/cli`); the
// package's main entry is the Overlord API only.
export { coerceArg, coerceArgs } from "./args.js";
export { main as funcMain, quickParse, yargsParse, type Invocation, type JobInvocation } from "./main.js";
export { ACTION_TABLE, COMMAND_TABLE, EXAMPLES, JOB_OPTIONS, OPTIONS } from "./commands.js";
