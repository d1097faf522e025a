// The target universe: the names of signed minion certs in the CA's certs/ directory, each with the
// address and port recorded at enrollment (none recorded: dial the name through DNS). A CA directory in a
// newer format than this func's is refused (ca/ca-format.ts).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { minionAddressFile, type HomePaths } from "@func/shared";
import { checkCaFormat } from "../ca/ca-format.js";

export interface MinionAddress {
  name: string;
  /** what to dial: the recorded address, else the name itself */
  host: string;
  port: number;
}

export function listMinionNames(paths: HomePaths): string[] {
  if (!existsSync(paths.signedDir)) return [];
  checkCaFormat(paths);
  const names: string[] = [];
  for (const f of readdirSync(paths.signedDir)) if (f.endsWith(".crt")) names.push(f.slice(0, -".crt".length));
  return names.sort();
}

export function minionAddress(paths: HomePaths, name: string, defaultPort: number): MinionAddress {
  const file = minionAddressFile(paths, name);
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // no record (or unreadable): dial the name
  }
  if (text !== undefined) {
    try {
      const rec = JSON.parse(text) as { address?: unknown; port?: unknown };
      return {
        name,
        host: typeof rec.address === "string" && rec.address !== "" ? rec.address : name,
        port: typeof rec.port === "number" ? rec.port : defaultPort,
      };
    } catch {
      // a damaged address record: fall back to DNS, as for a minion that never recorded one
    }
  }
  return { name, host: name, port: defaultPort };
}
