// The signature table of the built-in modules: the one place each method is declared. The minion
// implements exactly these (a test checks it); the overlord types CLI words and checks calls with them.

import { FuncError } from "../errors.js";
import { checkArgs } from "./check.js";
import { COMMAND } from "./command.js";
import { DISK } from "./disk.js";
import { FILE } from "./file.js";
import { HARDWARE } from "./hardware.js";
import { JOBS } from "./jobs.js";
import { PROCESS } from "./process.js";
import type { MethodSignature, ModuleSignature } from "./schema.js";
import { SERVICE } from "./service.js";
import { SYSTEM } from "./system.js";
import { TEST } from "./test.js";
import { SYSCTL } from "./sysctl.js";
import { USERS } from "./users.js";
import { FILETRACKER } from "./filetracker.js";
import { MOUNT } from "./mount.js";
import { PORTINFO } from "./portinfo.js";
import { NETWORK } from "./network.js";
import { PACKAGES } from "./packages.js";
import { REBOOT } from "./reboot.js";
import { FACTS } from "./facts.js";
import { DELEGATION } from "./delegation.js";

/** Every built-in module's signatures, in the order `func` lists them. */
export const SIGNATURES: readonly ModuleSignature[] = [
  TEST,
  COMMAND,
  SYSTEM,
  FILE,
  HARDWARE,
  DISK,
  PROCESS,
  SERVICE,
  JOBS,
  DELEGATION,
  FACTS,
  SYSCTL,
  USERS,
  FILETRACKER,
  MOUNT,
  PORTINFO,
  NETWORK,
  PACKAGES,
  REBOOT,
];

const BY_NAME = new Map(SIGNATURES.map((m) => [m.name, m]));

/** The signature of `module.method` in `table` (default: the built-in table), or undefined. */
export function findSignature(module: string, method: string, table: readonly ModuleSignature[] = SIGNATURES): MethodSignature | undefined {
  const mod = table === SIGNATURES ? BY_NAME.get(module) : table.find((m) => m.name === module);
  return mod && Object.hasOwn(mod.methods, method) ? mod.methods[method] : undefined;
}

/**
 * Checks a whole call before it fans out: a wrong count, type or value is one UsageError naming the
 * argument, said once instead of by every minion. Methods without a signature pass unchecked.
 */
export function checkCall(module: string, method: string, args: readonly unknown[], sig: MethodSignature | undefined = findSignature(module, method)): void {
  if (!sig) return;
  try {
    checkArgs(`${module}.${method}`, sig, args);
  } catch (err) {
    if (err instanceof FuncError) throw new FuncError("UsageError", err.message);
    throw err;
  }
}
