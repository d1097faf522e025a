// The `mount` module: mounted file systems, from /proc/self/mounts (the mount namespace funcd runs in).

import { readFileSync } from "node:fs";
import { MOUNT } from "@func/shared/core";
import { implement } from "../registry.js";

/** /proc/mounts writes space, tab, newline and backslash in names as octal escapes. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function mounts(): { device: string; mount: string; fstype: string; options: string[] }[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [device = "", mount = "", fstype = "", options = ""] = line.split(" ");
      return { device: unescapeMount(device), mount: unescapeMount(mount), fstype, options: options.split(",") };
    });
}

export const mountModule = implement(MOUNT, {
  list: () => mounts(),
  inventory: () => mounts(),
});
