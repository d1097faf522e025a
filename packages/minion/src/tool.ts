// Runs a system tool (useradd, systemctl, dpkg-query...) without a shell, bounded in time and output, and
// reports {rc, stdout, stderr} as data: modules decide what a failure means.

import { execFile } from "node:child_process";

/** A system tool should answer well within this; a hung one is reported, not waited on forever. */
export const TOOL_TIMEOUT_MS = 120_000;
/** Most output kept from a tool, bytes (dpkg-query of a big host is a few MiB). */
const TOOL_MAX_BUFFER = 32 * 1024 * 1024;

export interface ToolResult {
  [key: string]: string | number;
  rc: number;
  stdout: string;
  stderr: string;
}

/** rc 127 when the tool does not exist, as a shell would say. */
export function runTool(cmd: string, args: readonly string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: TOOL_MAX_BUFFER, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
      if (!err) return resolve({ rc: 0, stdout, stderr });
      const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
      resolve({ rc: typeof code === "number" ? code : code === "ENOENT" ? 127 : 1, stdout, stderr: stderr || err.message });
    });
  });
}

/** The first of these tools found on PATH (or at its absolute path), or undefined. */
export async function firstTool(names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const r = await runTool("/bin/sh", ["-c", 'command -v "$1"', "sh", name], 10_000);
    if (r.rc === 0 && r.stdout.trim()) return name;
  }
  return undefined;
}
