// The `reboot` module: runs minion.conf's reboot_command a few seconds after answering, and only when asked
// with the confirmation literal. Tests point reboot_command at something harmless.

import { spawn } from "node:child_process";
import { FuncError, REBOOT, REBOOT_CONFIRM } from "@func/shared/core";
import { implement } from "../registry.js";

export const rebootModule = implement(REBOOT, {
  now: (ctx, confirm) => {
    if (confirm !== REBOOT_CONFIRM) throw new FuncError("BadArguments", `reboot.now: confirm must be "${REBOOT_CONFIRM}"; nothing was done`);
    const command = ctx.config.rebootCommand;
    const delay = ctx.config.rebootDelayS;
    setTimeout(() => {
      const child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: "ignore", cwd: "/" });
      child.on("error", () => {}); // nothing is left to tell: the call has answered
      child.unref();
    }, delay * 1000).unref();
    return { scheduled: true, delay, command };
  },
});
