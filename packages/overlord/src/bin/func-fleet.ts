#!/usr/bin/env node
// func-fleet: bring a local fleet of real minions up on 127.0.0.2.. (and down again) for the demo,
// tests and benchmarks (DESIGN section 11).

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { FUNC_VERSION, FuncError, errorLine } from "@func/shared";
import { fleetDown, fleetRestart, fleetStatus, fleetUp, readFleet, type FleetCerts } from "../fleet/fleet.js";

const HELP = `func-fleet: a local fleet of real minions

Usage:
  func-fleet up --home DIR --count N [--base-address 127.0.0.2] [--port 51234] [--per-process K]
                [--sub-overlords K [--depth 2]] [--certs enroll|direct]
  func-fleet down --home DIR
  func-fleet status --home DIR [--json]
  func-fleet restart --home DIR [name..]

up creates a CA in DIR if there is none, enrolls N minions (each its own key, cert and job store under
DIR/minions/<name>), starts them, waits until every one answers, prints one JSON line and exits,
leaving them running. status shows each minion as running or dead (exit 4 when some is dead);
restart starts the dead ones again (or the named ones); down stops every funcd serving the fleet,
those restarted by hand too.

With --sub-overlords K it builds a tree: K sub-overlords (sub1..subK, minions of the top overlord that also
hold an overlord identity) with the N leaves (leaf001..) spread under them, 250 leaves per funcd process;
--depth 2 gives sub1 a sub-sub-overlord (sub1a) with half of its leaves. Every minion enrolls the real way
with the fleet's CA, and the delegation map is built; each minion in the JSON line says which sub-overlord
it is under ("under") and whether it is one ("sub").

--count is at most 20000 (memory: ~0.45 MB per minion). Each funcd process needs about 2 open files per
minion it serves plus 400 (up refuses a smaller "ulimit -n").

--certs direct (for fleets of thousands): instead of enrolling through an enrollment service, the fleet's
CA issues each minion its own key and cert and installs them in its home (~0.7 ms of CPU per cert, where
enrolling costs ~50 ms).
The calls are the same real mutual TLS; only how the certs got there differs (a real host always enrolls).

Examples:
  func-fleet up --home /tmp/fleet --count 5
  func-fleet up --home /tmp/tree --count 1000 --sub-overlords 4
  func-fleet up --home /tmp/big --count 10000 --sub-overlords 10 --certs direct
  FUNC_HOME=/tmp/fleet func "*" call test ping
  func-fleet status --home /tmp/fleet
  func-fleet restart --home /tmp/fleet minion03
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
        json: { type: "boolean" },
        "sub-overlords": { type: "string" },
        depth: { type: "string" },
        certs: { type: "string" },
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
  if (positionals.length > 1 && cmd !== "restart") throw new FuncError("UsageError", `${cmd} takes no arguments, got ${positionals.slice(1).join(" ")}`);
  switch (cmd) {
    case "up": {
      const count = int(values.count, "count");
      if (count === undefined) throw new FuncError("UsageError", "--count N is required");
      const port = int(values.port, "port");
      const perProcess = int(values["per-process"], "per-process");
      const subOverlords = int(values["sub-overlords"], "sub-overlords");
      const depth = int(values.depth, "depth");
      if (depth !== undefined && subOverlords === undefined) throw new FuncError("UsageError", "--depth goes with --sub-overlords");
      // fleetUp refuses anything but enroll or direct, before it makes anything in the home
      const certs = values.certs as FleetCerts | undefined;
      const state = await fleetUp(home, {
        count,
        ...(values["base-address"] ? { baseAddress: values["base-address"] } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(perProcess !== undefined ? { perProcess } : {}),
        ...(subOverlords !== undefined ? { subOverlords } : {}),
        ...(depth !== undefined ? { depth } : {}),
        ...(certs !== undefined ? { certs } : {}),
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
      if (!readFleet(home)) throw new FuncError("UsageError", `no fleet in ${home}`);
      const minions = fleetStatus(home);
      if (values.json) {
        process.stdout.write(JSON.stringify({ home, minions: minions.map(({ name, address, port: p, pid, alive, pids }) => ({ name, address, port: p, pid, alive, pids })) }) + "\n");
      } else {
        const width = Math.max(4, ...minions.map((m) => m.name.length));
        for (const m of minions) {
          process.stdout.write(`${m.name.padEnd(width)}  ${m.alive ? "running" : "dead   "}  ${m.address}:${m.port}  pid ${m.alive ? m.pids.join(",") : `${m.pid} (gone)`}\n`);
        }
      }
      const dead = minions.filter((m) => !m.alive).length;
      process.stderr.write(`func-fleet: ${minions.length - dead}/${minions.length} running${dead ? `; start the dead again with func-fleet restart --home ${home}` : ""}\n`);
      return dead ? 4 : 0;
    }
    case "restart": {
      const started = await fleetRestart(home, positionals.slice(1));
      process.stderr.write(`func-fleet: restarted ${started.length} minion(s)${started.length ? `: ${started.map((m) => m.name).join(", ")}` : " (all were running)"}\n`);
      return 0;
    }
    default:
      throw new FuncError("UsageError", `unknown command "${cmd}" (up, down, status, restart)`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`func-fleet: ${errorLine(err)}\n`);
    process.exit(1);
  },
);
