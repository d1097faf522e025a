#!/usr/bin/env node
// func-delegate: a sub-overlord's share of a call (DESIGN section 12). funcd's delegation module starts it,
// detached, as `run <config dir> <state dir> <id>` once the share's request is written: it calls the share's
// leaves with this host's own overlord identity (its own map sends leaves further down), and appends their
// results to the share's result file as they come. `map <config dir> <state dir> <path>` prints this host's
// tree (asking its own minions, recursively) and stores it as this host's map. Never imported by funcd.

import { readFileSync } from "node:fs";
import { FuncError, hostError, homePaths, isJobId, parsePath, shareFiles, type HomePaths, type HostResult, type ShareRequest } from "@func/shared";
import { Overlord } from "../call/overlord.js";
import { buildMap } from "../delegation/build-map.js";
import { ShareWriter } from "../delegation/share-writer.js";

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} func-delegate[${process.pid}]: ${message}\n`);

async function runShare(paths: HomePaths, id: string): Promise<number> {
  const files = shareFiles(paths, id);
  const request = JSON.parse(readFileSync(files.request, "utf8")) as ShareRequest;
  const writer = new ShareWriter(files.lines, request.fold !== false);
  const own = request.path[request.path.length - 1] ?? "?";
  const relay = { caller: request.caller, path: request.path };
  const options = { home: paths, relay, timeout: request.timeoutMs / 1000, keepAlive: request.async, foldShares: request.fold !== false };
  const known = new Set(new Overlord("*", options).knownNames());
  const served = request.leaves.filter((l) => known.has(l));
  for (const leaf of request.leaves) {
    if (known.has(leaf)) continue;
    const result: HostResult = {
      outcome: "unreachable",
      error: hostError("NotServed", `${own} does not serve ${leaf} (a stale map above: run "func map build" there)`),
    };
    writer.add(leaf, result);
  }
  const overlord = new Overlord("*", { ...options, hosts: served.filter((h) => !writer.written.has(h)) });
  try {
    if (overlord.hosts().length > 0) {
      if (request.async) {
        await overlord.callAsync(request.module, request.method, request.args, { id, hosts: served });
        await overlord.waitJob(id, { onHost: (host, result) => writer.add(host, stripJob(result)), timeoutMs: overlord.config.jobDeadlineS * 1000 });
      } else {
        for await (const { host, result } of overlord.stream(request.module, request.method, request.args)) writer.add(host, result);
      }
    }
    writer.end();
    return 0;
  } finally {
    await overlord.close();
  }
}

function stripJob(result: HostResult & { minionJobId?: string }): HostResult {
  const { minionJobId: _job, ...rest } = result;
  return rest;
}

async function printMap(paths: HomePaths, pathText: string): Promise<number> {
  const path = parsePath(pathText);
  const own = path[path.length - 1];
  if (!own) throw new FuncError("UsageError", "map needs the path down to this host");
  const overlord = new Overlord("*", { home: paths, delegate: false, relay: { caller: own, path } });
  try {
    const built = await buildMap(overlord, { path });
    for (const [name, why] of built.failed) log(`map: ${name}: ${why}`);
    const subs = new Set(built.map.subs.map((s) => s.name));
    // every minion this host calls itself is one of its leaves, its sub-overlords too (they are minions here)
    process.stdout.write(JSON.stringify({ name: own, leaves: built.asked, subs: built.map.subs.filter((s) => subs.has(s.name)) }) + "\n");
    return 0;
  } finally {
    await overlord.close();
  }
}

async function main(): Promise<number> {
  const [cmd, configDir, stateDir, arg] = process.argv.slice(2);
  if (!configDir || !stateDir || (cmd !== "run" && cmd !== "map")) {
    log("usage: func-delegate run <config dir> <state dir> <id> | map <config dir> <state dir> <path>");
    return 1;
  }
  const paths = homePaths(configDir, stateDir);
  if (cmd === "run") {
    if (!isJobId(arg)) throw new FuncError("UsageError", "run needs a job id");
    return runShare(paths, arg);
  }
  return printMap(paths, arg ?? "");
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof FuncError ? err.message : ((err as Error).stack ?? String(err)));
    process.exit(1);
  },
);
