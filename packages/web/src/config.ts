// func-web's settings, read once at start from overlord.conf: where it listens (web_listen_addr, web_port),
// which role each client-cert CN gets ([web_roles]) and what each operator may call on which hosts ([web_acl]).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FuncError, parseIni, splitList, type HomePaths } from "@func/shared";
import { ROLES, type Role } from "./auth/roles.js";

/** The port func-web listens on (after funcd's 51234 and the enrollment service's 51235). */
export const WEB_PORT = 51236;

export interface AclRule {
  /** identity glob (token name or client-cert CN) */
  identity: string;
  /** `module.method` globs */
  methods: string[];
  /** target specs (globs, node sets, @groups) the identity may call */
  targets: string[];
}

export interface WebConfig {
  listenAddr: string;
  port: number;
  /** client-cert CN glob -> role, first match wins */
  certRoles: Array<{ cn: string; role: Role }>;
  acl: AclRule[];
  /** JSON request bodies larger than this are refused (413) */
  maxBodyBytes: number;
  /** login attempts per source address: a burst, then one per `loginRefillS` seconds */
  loginBurst: number;
  loginRefillS: number;
  /** how long a browser session lives without use, s */
  sessionIdleS: number;
  /** finished live runs kept in memory for event-stream reconnects */
  keptRuns: number;
}

export const WEB_DEFAULTS: Omit<WebConfig, "certRoles" | "acl"> = {
  listenAddr: "127.0.0.1",
  port: WEB_PORT,
  maxBodyBytes: 1024 * 1024,
  loginBurst: 10,
  loginRefillS: 6,
  sessionIdleS: 8 * 3600,
  keptRuns: 200,
};

function num(file: string, values: Record<string, string>, key: string, fallback: number, min: number): number {
  const v = values[key];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FuncError("ConfigError", `${file}: ${key} = "${v}" is not a whole number >= ${min}`);
  return n;
}

/** Parses the web settings out of overlord.conf's text (pure: the tests feed it text). */
export function parseWebConfig(text: string, file = "overlord.conf"): WebConfig {
  let ini;
  try {
    ini = parseIni(text, file);
  } catch (err) {
    throw new FuncError("ConfigError", (err as Error).message, { cause: err });
  }
  const main = ini.main ?? {};
  const certRoles: WebConfig["certRoles"] = [];
  for (const [cn, role] of Object.entries(ini.web_roles ?? {})) {
    if (!(ROLES as readonly string[]).includes(role)) throw new FuncError("ConfigError", `${file}: [web_roles] ${cn} = "${role}": the role must be ${ROLES.join(", ")}`);
    certRoles.push({ cn, role: role as Role });
  }
  const acl: AclRule[] = [];
  for (const [identity, value] of Object.entries(ini.web_acl ?? {})) {
    const bar = value.indexOf("|");
    if (bar < 0) throw new FuncError("ConfigError", `${file}: [web_acl] ${identity}: expected "<method globs> | <target specs>", e.g. "test.*, command.run | web*, @db"`);
    const methods = splitList(value.slice(0, bar));
    const targets = value.slice(bar + 1).split(/[\s,;]+/).filter((t) => t !== "");
    if (methods.length === 0 || targets.length === 0) throw new FuncError("ConfigError", `${file}: [web_acl] ${identity}: both the method globs and the target specs must be given`);
    acl.push({ identity, methods, targets });
  }
  const d = WEB_DEFAULTS;
  return {
    listenAddr: main.web_listen_addr || d.listenAddr,
    port: num(file, main, "web_port", d.port, 0),
    certRoles,
    acl,
    maxBodyBytes: num(file, main, "web_max_body_bytes", d.maxBodyBytes, 1024),
    loginBurst: num(file, main, "web_login_burst", d.loginBurst, 1),
    loginRefillS: num(file, main, "web_login_refill", d.loginRefillS, 1),
    sessionIdleS: num(file, main, "web_session_idle", d.sessionIdleS, 60),
    keptRuns: num(file, main, "web_kept_runs", d.keptRuns, 1),
  };
}

export function loadWebConfig(paths: HomePaths): WebConfig {
  let text = "";
  try {
    text = readFileSync(paths.overlordConf, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new FuncError("ConfigError", `cannot read ${paths.overlordConf}: ${(err as Error).message}`, { cause: err });
  }
  return parseWebConfig(text, paths.overlordConf);
}

/** Where func-web keeps its files: tokens, its TLS key and cert, the runs it had open. */
export function webDir(paths: HomePaths): string {
  return join(paths.stateDir, "web");
}

/** The web directory's format version file: checked before its files are read, stamped when they are written. */
export function webFormatFile(paths: HomePaths): string {
  return join(webDir(paths), "format.json");
}
