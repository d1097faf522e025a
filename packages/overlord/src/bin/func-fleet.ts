#!/usr/bin/env node
// func-fleet: bring a local fleet of real minions up on 127.0.0.2.. (and down again) for the demo,
// tests and benchmarks (DESIGN section 11).

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { FUNC_VERSION, FuncError } from "@func/shared";
import { fleetDown, fleetUp, readFleet } from "../fleet/fleet.js";

const HELP = `func-fleet: a local fleet of real minions

Usage:
  func-fleet up --home DIR --count N [--base-address 127.0.0.2] [--port 51234] [--per-process K]
                [--sub-overlords K [--depth 2]]
  func-fleet down --home DIR
  func-fleet status --home DIR

up creates a CA in DIR if there is none, enrolls N minions (each its own key, cert and job store under
DIR/minions/<name>), starts them, waits until every one answers, prints one JSON line and exits,
leaving them running.

With --sub-overlords K it builds a tree: K sub-overlords (sub1..subK, minions of the top overlord that also
hold an overlord identity) with the N leaves (leaf001..) spread under them, 250 leaves per funcd process;
--depth 2 gives sub1 a sub-sub-overlord (sub1a) with half of its leaves. Every minion enrolls the real way
with the fleet's CA, and the delegation map is built; each minion in the JSON line says which sub-overlord
it is under ("under") and whether it is one ("sub").

Examples:
  func-fleet up --home /tmp/fleet --count 5
  func-fleet up --home /tmp/tree --count 1000 --sub-overlords 4
  FUNC_HOME=/tmp/fleet func "*" call test ping
  func-fleet down --home /tmp/fleet
`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        home: { type: "string" },
        count: { type: "string" },
        "base-address": { type: "string" },
        port: { type: "string" },
        "per-process": { type: "string" },
        "sub-overlords": { type: "string" },
        depth: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      allowPositionals: true,
    });
  } catch (err) {
    throw new FuncError("UsageError", `${(err as Error).message} (see func-fleet --help)`);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`func-fleet ${FUNC_VERSION}\n`);
    return 0;
  }
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(HELP);
    return values.help ? 0 : 1;
  }
  if (!values.home) throw new FuncError("UsageError", "--home DIR is required");
  const home = resolve(values.home);
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new FuncError("UsageError", `--${name} must be a whole number, got "${v}"`);
    return Number(v);
  };
  switch (cmd) {
    case "up": {
      const count = int(values.count, "count");
      if (count === undefined) throw new FuncError("UsageError", "--count N is required");
      const port = int(values.port, "port");
      const perProcess = int(values["per-process"], "per-process");
      const subOverlords = int(values["sub-overlords"], "sub-overlords");
      const depth = int(values.depth, "depth");
      if (depth !== undefined && subOverlords === undefined) throw new FuncError("UsageError", "--depth goes with --sub-overlords");
      const state = await fleetUp(home, {
        count,
        ...(values["base-address"] ? { baseAddress: values["base-address"] } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(perProcess !== undefined ? { perProcess } : {}),
        ...(subOverlords !== undefined ? { subOverlords } : {}),
        ...(depth !== undefined ? { depth } : {}),
        log: (m) => process.stderr.write(`func-fleet: ${m}\n`),
      });
      process.stdout.write(
        JSON.stringify({ home, minions: state.minions.map(({ name, address, port: p, pid, under, sub }) => ({ name, address, port: p, pid, ...(under ? { under } : {}), ...(sub ? { sub } : {}) })) }) + "\n",
      );
      return 0;
    }
    case "down": {
      const { stopped } = await fleetDown(home);
      process.stderr.write(`func-fleet: stopped ${stopped.length} funcd process(es)\n`);
      return 0;
    }
    case "status": {
      const state = readFleet(home);
      process.stdout.write(JSON.stringify(state ?? { home, minions: [] }) + "\n");
      return 0;
    }
    default:
      throw new FuncError("UsageError", `unknown command "${cmd}" (up, down, status)`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`func-fleet: ${err instanceof FuncError ? err.message : (err as Error).stack}\n`);
    process.exit(1);
  },
);
