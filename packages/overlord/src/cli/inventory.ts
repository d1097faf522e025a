// The `func-inventory` command line: `func-inventory [spec]` snapshots, `func-inventory --diff [since] [spec]`
// shows what changed. Returns the exit code; the bin prints errors.

import { EXIT, FUNC_VERSION, FuncError } from "@func/shared";
import { inventoryDiff, runInventory } from "../inventory/inventory-run.js";
import type { Io } from "./call.js";

const USAGE = `usage: func-inventory [spec]               snapshot every inventory() of the matched hosts (default "*") into
                                           $FUNC_HOME/inventory (git, one commit per run)
       func-inventory --diff [since] [spec]  per host, what changed since a run (a commit, or a date such as
                                           "2026-12-01" or "3 days ago"; default: the run before the last)
options: -t/--timeout S (per host), --json`;

export async function inventoryMain(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const words: string[] = [];
  let diff = false;
  let json = false;
  let timeout: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      io.out(USAGE + "\n");
      return EXIT.OK;
    } else if (a === "--version" || a === "-V") {
      io.out(`func-inventory ${FUNC_VERSION}\n`);
      return EXIT.OK;
    } else if (a === "--diff") diff = true;
    else if (a === "--json") json = true;
    else if (a === "-t" || a === "--timeout") {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new FuncError("UsageError", `${a} needs a number of seconds > 0`);
      timeout = v;
    } else if (a.startsWith("-") && a !== "-") throw new FuncError("UsageError", `unknown option ${JSON.stringify(a)} (see func-inventory --help)`);
    else words.push(a);
  }
  const opts = { env, ...(timeout !== undefined ? { timeout } : {}) };
  if (diff) {
    if (words.length > 2) throw new FuncError("UsageError", "func-inventory --diff takes [since] [spec]");
    const changes = await inventoryDiff(opts, words[0], words[1] ?? "*");
    if (json) io.out(JSON.stringify(changes, null, 2) + "\n");
    else {
      const hosts = Object.keys(changes);
      if (hosts.length === 0) io.err("no changes\n");
      for (const host of hosts) {
        io.out(`${host}\n`);
        for (const [module, lines] of Object.entries(changes[host]!)) for (const line of lines) io.out(`  ${module}: ${line}\n`);
      }
    }
    return EXIT.OK;
  }
  if (words.length > 1) throw new FuncError("UsageError", 'func-inventory takes one spec (quote it: func-inventory "web*")');
  const run = await runInventory(words[0] ?? "*", opts);
  if (json) io.out(JSON.stringify(run, null, 2) + "\n");
  for (const [host, mods] of Object.entries(run.failures).sort()) for (const [module, why] of Object.entries(mods)) io.err(`${host}: ${module}: ${why}\n`);
  io.err(`${run.hosts} hosts snapshotted, commit ${run.commit.slice(0, 12)}\n`);
  return run.exitCode;
}
