// The `disk` module: file system usage per mount point (Func's disk.usage), from `df` run without a shell.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { WireValue } from "@func/shared";
import { DISK } from "@func/shared/core";
import { implement } from "../registry.js";

const execFileP = promisify(execFile);
/** `df` should answer at once; a hung NFS mount must not hang the call. */
const DF_TIMEOUT_MS = 10_000;

export const diskModule = implement(DISK, {
  usage: async (_ctx, path) => {
    const args = ["-PT", "-B1"];
    if (path !== undefined) args.push("--", path);
    const { stdout } = await execFileP("df", args, { timeout: DF_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 });
    const out: Record<string, WireValue> = {};
    for (const line of stdout.trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 7) continue;
      out[f.slice(6).join(" ")] = {
        device: f[0]!,
        fstype: f[1]!,
        total: Number(f[2]),
        used: Number(f[3]),
        available: Number(f[4]),
        percentage: Number(f[5]!.replace("%", "")) || 0,
      };
    }
    return out;
  },
});
