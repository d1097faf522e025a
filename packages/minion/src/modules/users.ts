// The `users` module: accounts and groups read from the system's user database (getent) and changed with
// its own tools (useradd, userdel, usermod, groupadd, groupdel), run without a shell after the signature
// checked every name and option.

import { readFileSync } from "node:fs";
import { FuncError, USERS } from "@func/shared/core";
import { implement } from "../registry.js";
import { runTool } from "../tool.js";

interface Account {
  [key: string]: string | number | boolean | null | string[];
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

interface Group {
  [key: string]: number | string[];
  gid: number;
  members: string[];
}

async function getent(db: "passwd" | "group", key?: string): Promise<string[]> {
  const r = await runTool("getent", key === undefined ? [db] : [db, "--", key]);
  if (r.rc === 2 && key !== undefined) return []; // no such entry
  if (r.rc !== 0) throw new FuncError("MethodError", `getent ${db}: ${r.stderr.trim() || `exit ${r.rc}`}`);
  return r.stdout.split("\n").filter(Boolean);
}

function account(line: string): Account {
  const [name = "", , uid = "0", gid = "0", gecos = "", home = "", shell = ""] = line.split(":");
  return { name, uid: Number(uid), gid: Number(gid), gecos, home, shell };
}

async function groups(): Promise<Record<string, Group>> {
  const out: Record<string, Group> = {};
  for (const line of await getent("group")) {
    const [name = "", , gid = "0", members = ""] = line.split(":");
    out[name] = { gid: Number(gid), members: members.split(",").filter(Boolean) };
  }
  return out;
}

/** Locked accounts (password field starting with "!"), or null when /etc/shadow cannot be read. */
function lockedAccounts(): Set<string> | null {
  try {
    const out = new Set<string>();
    for (const line of readFileSync("/etc/shadow", "utf8").split("\n")) {
      const [name, pw] = line.split(":");
      if (name && pw?.startsWith("!")) out.add(name);
    }
    return out;
  } catch {
    return null;
  }
}

function groupsOf(user: Account, all: Record<string, Group>): string[] {
  return Object.entries(all)
    .filter(([, g]) => g.gid === user.gid || g.members.includes(user.name))
    .map(([n]) => n)
    .sort();
}

async function info(name: string): Promise<Account> {
  const [line] = await getent("passwd", name);
  if (!line) throw new FuncError("NotFound", `users: no user ${name}`);
  const user = account(line);
  const locked = lockedAccounts();
  return { ...user, groups: groupsOf(user, await groups()), locked: locked ? locked.has(name) : null };
}

/** Runs a user-changing tool; a non-zero exit is a MethodError with what the tool said. */
async function change(cmd: string, args: string[]): Promise<true> {
  const r = await runTool(cmd, args);
  if (r.rc === 127) throw new FuncError("MethodError", `${cmd} is not installed on this host`);
  if (r.rc !== 0) throw new FuncError("MethodError", `${cmd}: ${r.stderr.trim().split("\n")[0] || `exit ${r.rc}`}`);
  return true;
}

export const usersModule = implement(USERS, {
  list: async () => (await getent("passwd")).map((l) => account(l).name),
  info: (_ctx, name) => info(name),
  exists: async (_ctx, name) => (await getent("passwd", name)).length > 0,
  groups: async (_ctx, name) => (await info(name)).groups as string[],
  group_list: () => groups(),
  add: async (_ctx, name, o = {}) => {
    const args: string[] = [];
    if (o.uid !== undefined) args.push("-u", String(o.uid));
    if (o.gid !== undefined) args.push("-g", o.gid);
    if (o.home !== undefined) args.push("-d", o.home);
    if (o.shell !== undefined) args.push("-s", o.shell);
    if (o.gecos !== undefined) args.push("-c", o.gecos);
    if (o.groups?.length) args.push("-G", o.groups.join(","));
    if (o.system) args.push("-r");
    args.push(o.create_home ? "-m" : "-M", "--", name);
    await change("useradd", args);
    return info(name);
  },
  delete: (_ctx, name, o) => change("userdel", [...(o?.remove_home ? ["-r"] : []), "--", name]),
  lock: (_ctx, name) => change("usermod", ["-L", "--", name]),
  unlock: (_ctx, name) => change("usermod", ["-U", "--", name]),
  add_to_group: async (_ctx, name, group) => {
    await change("usermod", ["-a", "-G", group, "--", name]);
    return (await info(name)).groups as string[];
  },
  group_add: (_ctx, name, o) => change("groupadd", [...(o?.gid !== undefined ? ["-g", String(o.gid)] : []), ...(o?.system ? ["-r"] : []), "--", name]),
  group_delete: (_ctx, name) => change("groupdel", ["--", name]),
  inventory: async () => {
    const all = await groups();
    const locked = lockedAccounts();
    const users: Record<string, Account> = {};
    for (const line of await getent("passwd")) {
      const u = account(line);
      users[u.name] = { ...u, groups: groupsOf(u, all), locked: locked ? locked.has(u.name) : null };
    }
    return { users, groups: all };
  },
});
