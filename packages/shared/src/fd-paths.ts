// Paths through open descriptors (Linux /proc/self/fd): the path an open file really has, and names inside a
// directory held open. The file module and getfile check what they opened and never resolve a path twice.

import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FuncError } from "./errors.js";

const FD_DIR = "/proc/self/fd";

/** Opening a directory to work inside it: its last component must not be a symbolic link. */
export const OPEN_DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Opening a file to read it: never its last component through a link, never blocking (FIFOs), never a tty. */
export const OPEN_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
/** Creating a temp file (read back to hash it): it must not exist yet (so no link is followed). */
export const OPEN_CREATE = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The path the file behind `fd` has now (as the kernel knows it; " (deleted)" once it is unlinked). */
export async function descriptorPath(fd: number): Promise<string> {
  return fs.readlink(`${FD_DIR}/${fd}`);
}

/** A path that names the object behind `fd` itself (for readdir or statfs of a held directory). */
export function heldPath(fd: FileHandle | number): string {
  return `${FD_DIR}/${typeof fd === "number" ? fd : fd.fd}`;
}

/** Whether `name` is one plain entry name: no `/`, not `.` or `..`, no NUL, not empty. */
export function isEntryName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0") && name.length <= 255;
}

/**
 * The path of `name` inside the directory held open as `dir`: the directory is the one that was opened (and
 * checked), whatever its path points to now. `name` must be one entry name.
 */
export function inDirectory(dir: FileHandle | number, name: string): string {
  if (!isEntryName(name)) throw new FuncError("BadArguments", `${JSON.stringify(name.slice(0, 80))} is not a file name`);
  return `${heldPath(dir)}/${name}`;
}
