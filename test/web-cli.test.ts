// The func-web command line as a real process: --help with examples, tokens made, listed and revoked (the
// token is the last line, stored only hashed), usage errors in one line with exit 1, and `serve` answering
// over HTTPS with its func-CA cert until SIGTERM. func-web listens on 127.182.0.1.

import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { homePaths } from "@func/shared";
import { initCa } from "@func/overlord";
import { REPO, runBin, startFleet, tempHome } from "./helpers/fleet.js";
import { webRequest } from "./helpers/web.js";

const WEB_BIN = join(REPO, "packages/web/bin/func-web.js");

describe("func-web command line", function () {
  this.timeout(60_000);
  let home: string;

  before(async () => {
    home = tempHome("web-cli");
    await initCa(homePaths(home));
  });

  after(() => rmSync(home, { recursive: true, force: true }));

  const web = (args: string[]) => runBin(WEB_BIN, ["--home", home, ...args]);

  it("prints its help with examples, and names a bad option or command in one line (exit 1)", async () => {
    const help = await web(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:\n {2}func-web serve/);
    assert.match(help.stdout, /token create alice --role admin --ttl 8h/);
    for (const args of [["--bogus"], ["frobnicate"], ["token", "create", "x"], ["token", "create", "x", "--role", "root"], ["serve", "--port", "99999"], ["token", "revoke", "nobody"]]) {
      const r = await web(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^func-web: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it("creates a token (last line), stores only its hash, lists and revokes it", async () => {
    const made = await web(["token", "create", "alice", "--role", "operator", "--ttl", "2h"]);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim().split("\n").at(-1)!;
    assert.match(token, /^fw_[A-Za-z0-9_-]{43}$/);
    const stored = readFileSync(join(home, "web", "tokens.json"), "utf8");
    assert.ok(!stored.includes(token.slice(3)), "the token itself is not stored");
    assert.equal((await web(["token", "create", "alice", "--role", "admin"])).code, 1);
    const list = JSON.parse((await web(["token", "list", "--json"])).stdout) as Array<{ name: string; role: string; state: string; hash?: string }>;
    assert.deepEqual(list.map((t) => [t.name, t.role, t.state, t.hash]), [["alice", "operator", "active", undefined]]);
    assert.equal((await web(["token", "revoke", "alice"])).code, 0);
    const after = JSON.parse((await web(["token", "list", "--json"])).stdout) as Array<{ state: string }>;
    assert.equal(after[0]!.state, "revoked");
  });

  it("serves HTTPS with a cert from the func CA, answers the API, and stops on SIGTERM", async () => {
    const token = (await web(["token", "create", "bob", "--role", "viewer"])).stdout.trim().split("\n").at(-1)!;
    const child = spawn(process.execPath, [WEB_BIN, "--home", home, "serve", "--listen", "127.182.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await listening(child);
      const ca = readFileSync(homePaths(home).caCert, "utf8");
      const r = await webRequest(url, ca, "/api/minions", { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
      assert.deepEqual((r.json as { signed: unknown[] }).signed, []);
      const page = await webRequest(url, ca, "/");
      assert.match(String(page.headers["content-security-policy"]), /default-src 'none'/);
    } finally {
      child.kill("SIGTERM");
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", (c) => resolve(c))));
    assert.equal(code, 0);
  });

  it("records the hosts of a call it was killed in the middle of as lost at its next start, and sends nothing again", async () => {
    const fleet = await startFleet("web-cli-fleet", 182, 1);
    const serve = () => spawn(process.execPath, [WEB_BIN, "--home", fleet.home, "serve", "--listen", "127.182.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const first = serve();
    try {
      const token = (await runBin(WEB_BIN, ["--home", fleet.home, "token", "create", "ops", "--role", "admin"])).stdout.trim().split("\n").at(-1)!;
      const auth = { authorization: `Bearer ${token}` };
      const ca = readFileSync(homePaths(fleet.home).caCert, "utf8");
      const url = await listening(first);
      const posted = await webRequest(url, ca, "/api/calls", { headers: auth, body: { spec: "*", module: "test", method: "sleep", args: [30] } });
      assert.equal(posted.status, 202, posted.text);
      const { job } = posted.json as { job: string };
      first.kill("SIGKILL");
      await new Promise((resolve) => (first.exitCode !== null || first.signalCode !== null ? resolve(null) : first.on("exit", resolve)));
      const second = serve();
      try {
        const again = await listening(second);
        const st = (await webRequest(again, ca, `/api/jobs/${job}`, { headers: auth })).json as { status: string; hosts: Record<string, { outcome: string; error?: { type: string } }> };
        assert.equal(st.status, "FINISHED");
        assert.deepEqual(st.hosts.minion01, { ...st.hosts.minion01, outcome: "lost", final: true });
        assert.equal(st.hosts.minion01?.error?.type, "WebStopped");
      } finally {
        second.kill("SIGTERM");
      }
    } finally {
      if (first.exitCode === null && first.signalCode === null) first.kill("SIGKILL");
      await fleet.stop();
    }
  });
});

/** The URL a `func-web serve` child prints once it listens. */
function listening(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`func-web exited with ${code}`)));
  });
}
