// The `service` module: start/stop/restart/reload/status through systemctl (or /etc/init.d scripts where
// there is no systemd). Unit names are checked by the signature, and commands run without a shell.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { FuncError, SERVICE } from "@func/shared/core";
import { implement } from "../registry.js";

/** A service action should not take longer than this; a hung unit is reported, not waited on forever. */
const SERVICE_TIMEOUT_MS = 120_000;

function run(cmd: string, args: string[]): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: SERVICE_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const rc = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ rc, stdout, stderr });
    });
  });
}

function hasSystemd(): boolean {
  return existsSync("/run/systemd/system");
}

async function action(verb: string, name: string) {
  if (hasSystemd()) return run("systemctl", [verb, "--", name]);
  const script = `/etc/init.d/${name}`;
  if (!existsSync(script)) throw new FuncError("BadArguments", `no such service: ${name} (no systemd, no ${script})`);
  return run(script, [verb]);
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
  get_running: async () => {
    if (!hasSystemd()) throw new FuncError("MethodError", "service.get_running needs systemd");
    const r = await run("systemctl", ["list-units", "--type=service", "--state=running", "--no-legend", "--plain"]);
    return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
  },
});
