// The file module's roots hold under attack (issue 10, items 6, 7 and 11): a concurrent process swapping a
// directory for a symlink to outside the roots gets nothing written or read there; a final symlink is not
// chmod-ed through; setuid modes are refused; a FIFO is refused at once instead of hanging a thread.

import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostResult, WireValue } from "@func/shared";
import { startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport } from "@func/overlord";
import { makeMinionHome } from "./helpers/pki.js";
import { tempHome } from "./helpers/fleet.js";

/** Calls of each kind made while the attacker swaps. */
const RACE_CALLS = 150;
/** The attacker's swaps, at most (it is stopped as soon as the calls are done). */
const ATTACKER_ITERATIONS = 1_000_000;

const ATTACKER = `
const fs = require("node:fs");
const [sub, real, outside, max] = process.argv.slice(1);
let n = 0;
for (; n < Number(max); n++) {
  try {
    fs.renameSync(sub, real);
    fs.symlinkSync(outside, sub);
    fs.unlinkSync(sub);
    fs.renameSync(real, sub);
  } catch {}
  if (n % 1000 === 0) fs.writeFileSync(sub + ".count", String(n));
}
`;

describe("file roots under a swapping attacker, final symlinks, modes, FIFOs", function () {
  this.timeout(180_000);
  let dir: string;
  let root: string;
  let outside: string;
  let m: StartedMinion;
  let t: MinionTransport;

  const call = (method: string, ...params: unknown[]): Promise<HostResult> =>
    t.call({ name: m.name, host: m.address, port: m.port }, method, params, { timeoutMs: 60_000 });

  before(async () => {
    dir = tempHome("roots-race");
    const pki = await makeMinionHome(dir, "minion-race", "127.122.0.2");
    root = join(dir, "root");
    outside = join(dir, "outside");
    mkdirSync(join(root, "sub"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, "sub", "secret"), "public");
    writeFileSync(join(outside, "secret"), "SECRET");
    m = await startMinion(pki.paths, { fileRoots: [root] });
    t = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
  });
  after(async () => {
    t?.close();
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a directory swapped for a symlink while writing and reading: nothing lands or is read outside the roots", async () => {
    const sub = join(root, "sub");
    const attacker: ChildProcess = spawn(process.execPath, ["-e", ATTACKER, sub, join(root, "sub.real"), outside, String(ATTACKER_ITERATIONS)], { stdio: "ignore" });
    const exited = new Promise((resolve) => attacker.on("exit", resolve));
    let wrote = 0;
    let read = 0;
    try {
      const writes = (async () => {
        for (let i = 0; i < RACE_CALLS; i++) {
          const r = await call("file.write", join(sub, `w${i}`), "data");
          if (r.outcome === "ok") wrote++;
        }
      })();
      const reads = (async () => {
        for (let i = 0; i < RACE_CALLS; i++) {
          const r = await call("file.read", join(sub, "secret"));
          if (r.outcome === "ok") {
            read++;
            assert.equal((r.value as Record<string, WireValue>).data, "public", "read through the swapped link");
          }
          const c = await call("file.checksum", join(sub, "secret"));
          if (c.outcome === "ok") assert.equal(c.value, createHash("sha256").update("public").digest("hex"), "never the outside file's hash");
        }
      })();
      await Promise.all([writes, reads]);
    } finally {
      attacker.kill("SIGKILL");
      await exited;
    }
    const swaps = Number(readFileSync(`${sub}.count`, "utf8"));
    assert.ok(swaps >= 1000, `the attacker swapped (${swaps})`);
    assert.deepEqual(readdirSync(outside).sort(), ["secret"], "nothing was written outside the roots");
    assert.equal(readFileSync(join(outside, "secret"), "utf8"), "SECRET");
    // the calls that went through did so inside the roots (the directory may have been renamed meanwhile)
    const inside = [...readdirSync(root).filter((e) => e.startsWith("sub")).flatMap((d) => (lstatSync(join(root, d)).isDirectory() ? readdirSync(join(root, d)) : []))];
    assert.equal(inside.filter((e) => /^w\d+$/.test(e)).length, wrote);
    assert.ok(wrote + read > 0, `some calls succeeded between swaps (wrote ${wrote}, read ${read})`);
  });

  it("a final symlink to outside the roots is neither written, compared nor chmod-ed through", async () => {
    const target = join(outside, "shadow");
    writeFileSync(target, "root:x:0:0\n", { mode: 0o600 });
    symlinkSync(target, join(root, "link"));
    // the old hole: the same content answered {written: false} and chmod-ed the link's target
    const r = await call("file.write", join(root, "link"), "root:x:0:0\n", { mode: 0o666 });
    assert.equal(r.outcome, "denied", JSON.stringify(r));
    assert.equal(statSync(target).mode & 0o777, 0o600);
    assert.equal((await call("file.write", join(root, "link"), "other", { mode: 0o666 })).outcome, "denied");
    assert.equal(readFileSync(target, "utf8"), "root:x:0:0\n");
    assert.ok(lstatSync(join(root, "link")).isSymbolicLink());
    // a link that stays inside the roots writes its target and stays a link
    writeFileSync(join(root, "real.conf"), "old");
    symlinkSync(join(root, "real.conf"), join(root, "alias"));
    const w = await call("file.write", join(root, "alias"), "new");
    assert.equal(w.outcome, "ok", JSON.stringify(w));
    assert.equal(readFileSync(join(root, "real.conf"), "utf8"), "new");
    assert.ok(lstatSync(join(root, "alias")).isSymbolicLink());
  });

  it("mode bits beyond file_max_mode (setuid, setgid, sticky) are refused; 0777 and below are set", async () => {
    for (const mode of [0o4755, 0o2755, 0o1777]) {
      const r = await call("file.write", join(root, `suid-${mode}`), "x", { mode });
      assert.equal(r.outcome, "denied", JSON.stringify(r));
      assert.match(JSON.stringify(r), /file_max_mode/);
      assert.deepEqual(readdirSync(root).filter((e) => e.startsWith("suid-")), []);
    }
    assert.equal((await call("file.write", join(root, "plain"), "x", { mode: 0o750 })).outcome, "ok");
    assert.equal(statSync(join(root, "plain")).mode & 0o7777, 0o750);
    // the same content with another mode: not rewritten, the mode set on the open file
    const again = await call("file.write", join(root, "plain"), "x", { mode: 0o700 });
    assert.equal(again.outcome, "ok");
    assert.deepEqual([(again.value as Record<string, WireValue>).written, statSync(join(root, "plain")).mode & 0o7777], [false, 0o700]);
  });

  it("a FIFO is refused at once by checksum and read (four at a time), and file.* keeps answering", async () => {
    const fifo = join(root, "fifo");
    execFileSync("mkfifo", [fifo]);
    const answers = await Promise.all([1, 2, 3, 4].map(() => call("file.checksum", fifo)));
    for (const a of answers) {
      assert.equal(a.outcome, "error", JSON.stringify(a));
      assert.match(JSON.stringify(a), /not a regular file/);
    }
    assert.equal((await call("file.read", fifo)).outcome, "error");
    const st = await call("file.stat", fifo);
    assert.equal((st as { value: Record<string, WireValue> }).value.type, "other");
    assert.equal((await call("file.checksum", join(root, "plain"))).outcome, "ok");
    // a device reached through a link is outside the roots
    symlinkSync("/dev/zero", join(root, "zero"));
    assert.equal((await call("file.checksum", join(root, "zero"))).outcome, "denied");
  });
});
