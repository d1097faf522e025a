// The line a command ends with (errorLine in shared): what failed and what to do, never a stack trace. A
// real funcd whose listen address is taken says so in one line and exits 1.

import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { FuncError, errorLine } from "@func/shared";
import { makeMinionHome } from "./helpers/pki.js";
import { FUNCD_BIN, runBin, tempHome } from "./helpers/fleet.js";

const ADDRESS = "127.124.0.2";

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ADDRESS, () => resolve());
  });
}

describe("error lines", function () {
  this.timeout(60_000);
  let taken: Server;
  let port: number;

  before(async () => {
    taken = createServer();
    await listen(taken, 0);
    port = (taken.address() as { port: number }).port;
  });
  after(() => taken?.close());

  it("a FuncError is its message; a system error says what failed and what to do; anything else is one line to report", async () => {
    assert.equal(errorLine(new FuncError("UsageError", "bad --mode")), "bad --mode");
    const second = createServer();
    const err = await listen(second, port).then(
      () => assert.fail("the port was free"),
      (e: unknown) => e,
    );
    assert.match(errorLine(err), new RegExp(`^cannot listen on ${ADDRESS.replace(/\./g, "\\.")}:${port}: the address is in use \\(`));
    assert.equal(errorLine(Object.assign(new Error("x"), { code: "ENOSPC", syscall: "write" })), "cannot write: no space left on the device (free some and try again)");
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere (file.js:1:1)");
    assert.equal(errorLine(bug), "internal error: Cannot read properties of undefined (reading 'x') (a bug: please report it with the command line)");
    assert.equal(errorLine("thrown string"), "internal error: thrown string (a bug: please report it with the command line)");
  });

  it("funcd on an address in use: one line naming it, exit 1, no stack trace", async () => {
    const dir = tempHome("error-lines");
    try {
      const pki = await makeMinionHome(dir, "minion-busy", ADDRESS);
      writeFileSync(pki.paths.minionConf, `[main]\nminion_name = minion-busy\nlisten_addr = ${ADDRESS}\nlisten_port = ${port}\n`);
      const r = await runBin(FUNCD_BIN, ["--home", dir]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.match(lines.at(-1)!, new RegExp(`^funcd: cannot listen on ${ADDRESS.replace(/\./g, "\\.")}:${port}: the address is in use`));
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
