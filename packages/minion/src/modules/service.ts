// The `service` module: start/stop/restart/reload/status through systemctl (or /etc/init.d scripts where
// there is no systemd). Unit names are checked by the signature, and commands run without a shell.

import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { FuncError, SERVICE } from "@func/shared/core";
import { implement } from "../registry.js";
import { runTool as run } from "../tool.js";

function hasSystemd(): boolean {
  return existsSync("/run/systemd/system");
}

async function action(verb: string, name: string) {
  if (hasSystemd()) return run("systemctl", [verb, "--", name]);
  const script = `/etc/init.d/${name}`;
  if (!existsSync(script)) throw new FuncError("BadArguments", `no such service: ${name} (no systemd, no ${script})`);
  return run(script, [verb]);
}

async function running(): Promise<string[]> {
  if (!hasSystemd()) throw new FuncError("MethodError", "service.get_running needs systemd");
  const r = await run("systemctl", ["list-units", "--type=service", "--state=running", "--no-legend", "--plain"]);
  return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

/** Services started at boot, without the `.service` suffix, sorted. */
async function enabledServices(): Promise<string[]> {
  if (!hasSystemd()) return initEnabled();
  const r = await run("systemctl", ["list-unit-files", "--type=service", "--state=enabled", "--no-legend", "--plain"]);
  return [...new Set(r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!.replace(/\.service$/, "")).filter(Boolean))].sort();
}

/** init.d services with a start link in a multi-user runlevel (/etc/rc2.d .. rc5.d: S<nn><name>). */
async function initEnabled(): Promise<string[]> {
  const out = new Set<string>();
  for (const level of [2, 3, 4, 5]) {
    let entries: string[] = [];
    try {
      entries = await readdir(`/etc/rc${level}.d`);
    } catch {
      continue;
    }
    for (const e of entries) {
      const m = /^S\d\d(.+)$/.exec(e);
      if (m) out.add(m[1]!);
    }
  }
  return [...out].sort();
}

export const serviceModule = implement(SERVICE, {
  start: (_ctx, name) => action("start", name),
  stop: (_ctx, name) => action("stop", name),
  restart: (_ctx, name) => action("restart", name),
  reload: (_ctx, name) => action("reload", name),
  status: async (_ctx, name) => {
    const r = hasSystemd() ? await run("systemctl", ["is-active", "--", name]) : await action("status", name);
    return { running: r.rc === 0, rc: r.rc, output: (r.stdout + r.stderr).trim() };
  },
  get_running: () => running(),
  enabled: async (_ctx, name) => {
    if (hasSystemd()) return (await run("systemctl", ["is-enabled", "--", name])).stdout.trim() === "enabled";
    return (await initEnabled()).includes(name);
  },
  get_enabled: () => enabledServices(),
  inventory: async () => ({ enabled: await enabledServices(), running: hasSystemd() ? await running() : [] }),
});
