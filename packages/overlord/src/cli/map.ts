// `func map build` (Func's func-build-map) and `func map show`: the delegation map of this overlord's home,
// built by asking the direct minions (each sub-overlord asks its own), printed as a tree with counts.

import { EXIT, FuncError } from "@func/shared";
import { Overlord, type OverlordOptions } from "../call/overlord.js";
import { buildMap } from "../delegation/build-map.js";
import { loadMap, renderMap } from "../delegation/map.js";
import type { Io, OutputOptions } from "./call.js";

export const MAP_ACTIONS = ["build", "show"] as const;
export type MapAction = (typeof MAP_ACTIONS)[number];

export async function mapCommand(action: MapAction, opts: OverlordOptions, out: OutputOptions, io: Io): Promise<number> {
  const overlord = new Overlord("*", { ...opts, delegate: false });
  try {
    if (action === "build") {
      const built = await buildMap(overlord);
      for (const [name, why] of built.failed) io.err(`func: map build: ${name} did not say what it serves (${why})\n`);
      if (out.format === "json") io.out(JSON.stringify({ ...built.map, failed: Object.fromEntries(built.failed) }, null, 2) + "\n");
      else io.out(renderMap(built.map, built.asked));
      io.err(`map written to ${overlord.paths.delegationMap}: asked ${built.asked.length} minion(s), ${built.map.subs.length} sub-overlord(s), ${built.failed.length} did not answer\n`);
      return built.failed.length ? EXIT.UNREACHABLE : EXIT.OK;
    }
    const map = loadMap(overlord.paths);
    if (!map) throw new FuncError("ConfigError", `no delegation map in ${overlord.paths.delegationMap}: run "func map build" first`);
    io.out(out.format === "json" ? JSON.stringify(map, null, 2) + "\n" : renderMap(map, overlord.directNames()));
    return EXIT.OK;
  } finally {
    await overlord.close();
  }
}
