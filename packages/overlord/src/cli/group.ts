// `func group add|remove|list|show`: the groups file (`$FUNC_HOME/groups`) from the command line. Members are
// globs, node sets or names, checked before anything is written; `show` also lists the hosts a group matches.

import { EXIT, FuncError, foldNames, globToRegExp, loadGroups, resolveTargets, saveGroups, withHostLock } from "@func/shared";
import { listMinionNames } from "../call/universe.js";
import type { Overlord } from "../call/overlord.js";
import type { Io, OutputOptions } from "./call.js";
import { toJson } from "./render.js";

export const GROUP_ACTIONS = ["add", "remove", "list", "show"] as const;
export type GroupAction = (typeof GROUP_ACTIONS)[number];

const GROUP_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

function groupName(raw: string | undefined, action: GroupAction): string {
  if (raw === undefined) throw new FuncError("UsageError", `group ${action} needs a group name, e.g. func group ${action} web${action === "add" ? ' "web[01-20]"' : ""}`);
  const name = raw.toLowerCase();
  if (!GROUP_NAME_RE.test(name)) throw new FuncError("UsageError", `"${raw}" is not a group name (letters, digits, _ . -; at most 64)`);
  return name;
}

/**
 * Runs one group action against the overlord's home; add and remove read, change and write the groups file
 * under the host lock, so that two at once never lose one of the changes.
 */
export async function groupCommand(overlord: Overlord, action: GroupAction, words: readonly string[], out: Pick<OutputOptions, "format">, io: Io): Promise<number> {
  if (action === "add" || action === "remove") return withHostLock(`groups:${overlord.paths.groupsFile}`, () => groupAction(overlord, action, words, out, io));
  return groupAction(overlord, action, words, out, io);
}

function groupAction(overlord: Overlord, action: GroupAction, words: readonly string[], out: Pick<OutputOptions, "format">, io: Io): number {
  const paths = overlord.paths;
  const groups: Record<string, string[]> = loadGroups(paths);
  const [rawName, ...members] = words;
  switch (action) {
    case "list": {
      if (words.length > 0) throw new FuncError("UsageError", `group list takes no arguments, got ${words.map((w) => JSON.stringify(w)).join(" ")}`);
      const names = Object.keys(groups).sort();
      if (out.format === "json") io.out(toJson({ groups }, 2) + "\n");
      else io.out(names.map((n) => `${n}  ${groups[n]!.join(", ")}\n`).join(""));
      return EXIT.OK;
    }
    case "show": {
      const name = groupName(rawName, action);
      if (members.length > 0) throw new FuncError("UsageError", `group show takes one group name, got also ${members.join(" ")}`);
      if (!groups[name]) throw new FuncError("UsageError", `no group named "${name}"${Object.keys(groups).length ? ` (groups: ${Object.keys(groups).sort().join(", ")})` : ""}`);
      let hosts: string[] = [];
      try {
        hosts = resolveTargets(`@${name}`, { names: listMinionNames(paths), groups });
      } catch (err) {
        if (!(err instanceof FuncError && err.type === "NoMatch")) throw err;
      }
      if (out.format === "json") io.out(toJson({ group: name, members: groups[name], hosts }, 2) + "\n");
      else io.out(`${name}: ${groups[name].join(", ")}\nmatches ${hosts.length} host${hosts.length === 1 ? "" : "s"}${hosts.length ? `: ${foldNames(hosts)}` : ""}\n`);
      return EXIT.OK;
    }
    case "add": {
      const name = groupName(rawName, action);
      if (members.length === 0) throw new FuncError("UsageError", `group add needs members, e.g. func group add ${name} "web[01-20]" db1`);
      // each member compiles as a pattern now, not on the next call that uses the group
      for (const m of members) {
        if (/[;,@\s]/.test(m.replace(/\[[^\]]*\]/g, ""))) throw new FuncError("UsageError", `"${m}" is not one member: give members as separate words, each a name, glob or node set`);
        globToRegExp(m);
      }
      const current = groups[name] ?? [];
      groups[name] = [...current, ...members.filter((m) => !current.includes(m))];
      saveGroups(paths, groups);
      io.err(`group ${name}: ${groups[name].join(", ")}\n`);
      return EXIT.OK;
    }
    case "remove": {
      const name = groupName(rawName, action);
      const current = groups[name];
      if (!current) throw new FuncError("UsageError", `no group named "${name}"`);
      if (members.length === 0) {
        delete groups[name];
        io.err(`group ${name} removed\n`);
      } else {
        const missing = members.filter((m) => !current.includes(m));
        if (missing.length) throw new FuncError("UsageError", `group ${name} has no member ${missing.join(", ")} (members: ${current.join(", ")})`);
        groups[name] = current.filter((m) => !members.includes(m));
        if (groups[name].length === 0) delete groups[name];
        io.err(groups[name] ? `group ${name}: ${groups[name].join(", ")}\n` : `group ${name} removed (no members left)\n`);
      }
      saveGroups(paths, groups);
      return EXIT.OK;
    }
  }
}
