#!/usr/bin/env node
// funcd: the minion daemon. Serves one home (FUNC_HOME or --home), or several homes in one process
// (--multi, for large local fleets: each is still its own TLS server with its own cert and address).

import { parseArgs } from "node:util";
import { homePaths, resolveHome, FuncError } from "@func/shared";
import { startMinion, type StartedMinion } from "../daemon.js";

const HELP = `funcd: the func minion daemon

Usage:
  funcd [--home DIR] [--listen ADDR] [--port N]
  funcd --multi DIR [DIR...]          serve several minion homes in one process
  funcd --list-modules

Options:
  --home DIR      the minion's home (default: FUNC_HOME, /etc/func for root, ~/.func)
  --listen ADDR   address to listen on (minion.conf listen_addr, default 0.0.0.0)
  --port N        port (minion.conf listen_port, default 51234)

Examples:
  FUNC_HOME=/srv/minion1 funcd
  funcd --home /srv/minion1 --listen 127.0.0.2
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      home: { type: "string" },
      listen: { type: "string" },
      port: { type: "string" },
      multi: { type: "boolean" },
      "list-modules": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values["list-modules"]) {
    const { MODULES } = await import("../modules/index.js");
    for (const m of MODULES) process.stdout.write(`${m.name}\t${m.description}\n`);
    return 0;
  }
  const log = (message: string) => process.stderr.write(`funcd: ${message}\n`);
  const homes = values.multi ? positionals.map((d) => homePaths(d)) : [values.home ? homePaths(values.home) : resolveHome(process.env, process.getuid?.())];
  if (homes.length === 0) throw new FuncError("UsageError", "--multi needs at least one home directory");
  const overrides = {
    ...(values.listen ? { listenAddr: values.listen } : {}),
    ...(values.port ? { listenPort: Number(values.port) } : {}),
  };
  const started: StartedMinion[] = [];
  for (const paths of homes) {
    const m = await startMinion(paths, overrides, { log });
    started.push(m);
    log(`${m.name} listening on ${m.address}:${m.port} (pid ${process.pid})`);
  }
  const stop = async () => {
    await Promise.allSettled(started.map((m) => m.close()));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`funcd: ${err instanceof FuncError ? err.message : (err as Error).stack}\n`);
    process.exit(1);
  },
);
