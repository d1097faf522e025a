// npm run demo [-- --base-address 127.0.0.2]: a 5-minion fleet on 127.0.0.2..6 (or from the address given),
// a few real calls through the func CLI, then the fleet is stopped again. Everything is real: CA, certs,
// mutual TLS, detached funcd processes.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

let baseAddress;
try {
  ({ values: { "base-address": baseAddress } } = parseArgs({ options: { "base-address": { type: "string" } } }));
} catch (err) {
  process.stderr.write(`demo: ${err.message} (usage: npm run demo -- [--base-address 127.0.0.2])\n`);
  process.exit(1);
}
const where = baseAddress ? ["--base-address", baseAddress] : [];

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "packages/overlord/bin", `${name}.js`);
const home = mkdtempSync(join(tmpdir(), "func-demo-"));
const env = { ...process.env, FUNC_HOME: home };

function run(title, cmd, args) {
  process.stdout.write(`\n\x1b[1m$ ${title}\x1b[0m\n`);
  const r = spawnSync(process.execPath, [bin(cmd), ...args], { env, stdio: "inherit" });
  process.stdout.write(`(exit ${r.status})\n`);
  return r.status;
}

let failed = false;
try {
  if (run(`func-fleet up --home ${home} --count 5 ${where.join(" ")}`, "func-fleet", ["up", "--home", home, "--count", "5", ...where]) !== 0) {
    throw new Error("the fleet did not come up");
  }
  if (run("func-ca list-signed                # each minion made its key and enrolled over TLS", "func-ca", ["list-signed"]) !== 0) failed = true;
  const calls = [
    ['func "*" ping', ["*", "ping"], 0],
    ['func "*" call test add 1 2', ["*", "call", "test", "add", "1", "2"], 0],
    ['func "*" call command run "uname -r"', ["*", "call", "command", "run", "uname -r"], 0],
    ['func "minion0[1-2]" call system list_modules --json', ["minion0[1-2]", "call", "system", "list_modules", "--json"], 0],
    ['func "*" call test explode        # exit bit 2: some host answered with an error', ["*", "call", "test", "explode"], 2],
    ['func "web*" ping                  # exit 16: nothing matched', ["web*", "ping"], 16],
  ];
  for (const [title, args, want] of calls) {
    if (run(title, "func", args) !== want) failed = true;
  }
} catch (err) {
  process.stderr.write(`demo: ${err.message}\n`);
  failed = true;
} finally {
  run(`func-fleet down --home ${home}`, "func-fleet", ["down", "--home", home]);
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
