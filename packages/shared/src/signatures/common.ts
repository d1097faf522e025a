// Parameter types several modules share: absolute paths, unit and user names.

import { t } from "./schema.js";

/** An absolute path without NUL characters, as long as Linux allows. */
export const ABSOLUTE_PATH = t.string({ pattern: "/[^\\u0000]*", max_length: 4096 });

/** A user or group name as useradd takes it (no leading "-", at most 32 characters). */
export const ACCOUNT_NAME = t.string({ pattern: "[a-z_][a-z0-9_-]{0,30}\\$?" });

/** A host name or an IPv4/IPv6 address. */
export const HOST = t.string({ pattern: "[A-Za-z0-9_.:%-]{1,253}" });

/** `inventory()`: no arguments, a snapshot of the module's state as plain data (func-inventory stores it). */
export const INVENTORY_METHOD = (module: string, what: string) =>
  ({ doc: `Snapshot for func-inventory: ${what}.`, example: `func "*" call ${module} inventory`, params: [] }) as const;
