// The `func-web` command line: `serve` (the HTTPS service) and `token create|list|revoke` (login tokens made
// on the overlord host). One table of commands; each returns an exit code and prints only through `io`.

import { parseArgs } from "node:util";
import { FUNC_VERSION, homePaths, parseDuration, resolveHome, type HomePaths } from "@func/shared";
import { isRole } from "../auth/roles.js";
import { TokenStore } from "../auth/tokens.js";
import { loadWebConfig } from "../config.js";
import { startWebServer } from "../server/server.js";

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const HELP = `func-web: a dashboard and a JSON API on the overlord host

Usage:
  func-web serve [--listen ADDR] [--port N]        run the HTTPS service (default 127.0.0.1:51236)
  func-web token create NAME --role ROLE [--ttl 8h]  make a login token (printed once, as the last line)
  func-web token list [--json]                     tokens: name, role, created, expires, state
  func-web token revoke NAME                       end a token (and every session made with it)

Options:
  --home DIR       the overlord's home (default: FUNC_HOME, /etc/func for root, else ~/.func)
  --role ROLE      viewer (read), operator (call, within [web_acl]), admin (also sign and revoke)
  --ttl DURATION   how long a token lives: 90s, 15m, 8h, 7d (default 8h)
  -h, --help       this text;  -V, --version

overlord.conf:
  web_listen_addr = 127.0.0.1        web_port = 51236
  [web_roles]    alice = admin          (client-cert CN glob = role; certs from "func-ca issue alice --role user")
  [web_acl]      ops-* = test.*, command.run | web*, @db   (method globs | targets an operator may call)

Examples:
  func-web serve
  func-web serve --listen 0.0.0.0 --port 8443
  func-web token create alice --role admin --ttl 8h
  curl --cacert ~/.func/pki/ca/ca.crt -H "Authorization: Bearer fw_..." https://127.0.0.1:51236/api/minions
  func-web token revoke alice
`;

const OPTIONS = {
  home: { type: "string" },
  listen: { type: "string" },
  port: { type: "string" },
  role: { type: "string" },
  ttl: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** Runs until the service is told to stop (SIGINT/SIGTERM) for `serve`; returns the exit code. */
export async function webMain(argv: string[], env: NodeJS.ProcessEnv, io: Io, signal?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`func-web: ${(err as Error).message.split("\n")[0]} (see func-web --help)\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.out(`func-web ${FUNC_VERSION}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    io.out(HELP);
    return positionals.length === 0 && !values.help ? 1 : 0;
  }
  const paths: HomePaths = values.home ? homePaths(values.home) : resolveHome(env, process.getuid?.());
  const [command, sub, ...rest] = positionals;
  const usage = (msg: string) => {
    io.err(`func-web: ${msg} (see func-web --help)\n`);
    return 1;
  };
  if (command === "serve") {
    if (sub !== undefined) return usage(`serve takes no arguments, got "${sub}"`);
    const config = loadWebConfig(paths);
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port "${values.port}" is not a port number`);
    }
    const server = await startWebServer(paths, config, {
      ...(values.listen ? { listenAddr: values.listen } : {}),
      ...(port !== undefined ? { port } : {}),
      log: (m) => io.err(`func-web: ${m}\n`),
    });
    if (server.certIssued) io.err(`func-web: issued its TLS cert from the func CA (${paths.pkiDir}/web.crt)\n`);
    io.out(`func-web listening on ${server.url} (trust ${paths.caCert}; log in with a token from "func-web token create")\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      signal?.addEventListener("abort", stop, { once: true });
    });
    await server.close();
    return 0;
  }
  if (command !== "token") return usage(`unknown command "${command}"`);
  const tokens = new TokenStore(paths);
  if (sub === "create") {
    const [name, extra] = rest;
    if (name === undefined || extra !== undefined) return usage("token create takes one NAME");
    if (!isRole(values.role)) return usage("token create needs --role viewer, operator or admin");
    const ttl = parseDuration(values.ttl ?? "8h");
    const { token, record } = tokens.create(name, values.role, ttl);
    io.err(`func-web: token ${record.name} (${record.role}) expires ${record.expires}; it is shown only now:\n`);
    io.out(`${token}\n`);
    return 0;
  }
  if (sub === "list") {
    if (rest.length > 0) return usage("token list takes no arguments");
    const list = tokens.list();
    if (values.json) io.out(JSON.stringify(list, null, 2) + "\n");
    else if (list.length === 0) io.out("no tokens (func-web token create NAME --role viewer)\n");
    else for (const t of list) io.out(`${t.name.padEnd(24)} ${t.role.padEnd(9)} ${t.state.padEnd(8)} created ${t.created}  expires ${t.expires}\n`);
    return 0;
  }
  if (sub === "revoke") {
    const [name, extra] = rest;
    if (name === undefined || extra !== undefined) return usage("token revoke takes one NAME");
    const t = tokens.revoke(name);
    io.out(`revoked token ${t.name}\n`);
    return 0;
  }
  return usage(sub === undefined ? "token needs create, list or revoke" : `unknown token command "${sub}"`);
}

