// The `service` module: start/stop/restart/reload/status through systemctl (or /etc/init.d scripts where
// there is no systemd). Unit names are checked, and commands run without a shell.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { WireValue } from "@func/shared";
import { FuncError } from "@func/shared/core";
import type { FuncModule, MethodSpec } from "../registry.js";

/** A service action should not take longer than this; a hung unit is reported, not waited on forever. */
const SERVICE_TIMEOUT_MS = 120_000;
const UNIT_RE = /^[A-Za-z0-9@._:-]{1,200}$/;

function unit(name: WireValue | undefined): string {
  if (typeof name !== "string" || !UNIT_RE.test(name) || name.startsWith("-")) {
    throw new FuncError("BadArguments", "service name must be letters, digits, @ . _ : - (and not start with -)");
  }
  return name;
}

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

function verb(v: string): MethodSpec {
  return {
    doc: `${v[0]!.toUpperCase()}${v.slice(1)}s a service; returns {rc, stdout, stderr}.`,
    example: `func "web*" call service ${v} nginx`,
    params: [{ name: "name", type: "string" }],
    run: (_ctx, name) => action(v, unit(name)),
  };
}

export const serviceModule: FuncModule = {
  name: "service",
  description: "Start, stop and inspect system services (systemd or init.d)",
  methods: {
    start: verb("start"),
    stop: verb("stop"),
    restart: verb("restart"),
    reload: verb("reload"),
    status: {
      doc: "Is the service running? {running, rc, output}.",
      example: 'func "web*" call service status nginx',
      params: [{ name: "name", type: "string" }],
      run: async (_ctx, name) => {
        const n = unit(name);
        const r = hasSystemd() ? await run("systemctl", ["is-active", "--", n]) : await action("status", n);
        return { running: r.rc === 0, rc: r.rc, output: (r.stdout + r.stderr).trim() };
      },
    },
    get_running: {
      doc: "Names of running services (systemd only).",
      example: 'func "*" call service get_running',
      params: [],
      run: async () => {
        if (!hasSystemd()) throw new FuncError("MethodError", "service.get_running needs systemd");
        const r = await run("systemctl", ["list-units", "--type=service", "--state=running", "--no-legend", "--plain"]);
        return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
      },
    },
  },
};
