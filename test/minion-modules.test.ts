// The minion's modules through a real mTLS call: command (shell semantics, timeout kills the tree, output
// cap), file (roots enforced through symlinks and ..), hardware, disk, process, system introspection.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostResult, WireValue } from "@func/shared";
import { startMinion, type StartedMinion } from "@func/minion";
import { MinionTransport } from "@func/overlord";
import { makeMinionHome, type TestPki } from "./helpers/pki.js";
import { tempHome } from "./helpers/fleet.js";

describe("minion modules", function () {
  this.timeout(60_000);
  let dir: string;
  let pki: TestPki;
  let m: StartedMinion;
  let t: MinionTransport;
  let root: string;

  const call = (method: string, ...params: unknown[]): Promise<HostResult> =>
    t.call({ name: m.name, host: m.address, port: m.port }, method, params, { timeoutMs: 20_000 });
  const ok = async (method: string, ...params: unknown[]): Promise<WireValue> => {
    const r = await call(method, ...params);
    assert.equal(r.outcome, "ok", JSON.stringify(r));
    return (r as { value: WireValue }).value;
  };

  before(async () => {
    dir = tempHome("modules");
    pki = await makeMinionHome(dir, "minion-mod", "127.14.0.2");
    root = join(dir, "files");
    mkdirSync(root);
    m = await startMinion(pki.paths, { fileRoots: [root], commandOutputCap: 4096 });
    t = new MinionTransport({ key: pki.overlord.keyPem, cert: pki.overlord.certPem, ca: pki.ca.certPem });
  });
  after(async () => {
    t?.close();
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("command", () => {
    it("runs with shell semantics: pipes, redirects, ;, env", async () => {
      const v = (await ok("command.run", "echo foobar | grep foo; echo err 1>&2; exit 3")) as Record<string, WireValue>;
      assert.deepEqual([v.rc, v.stdout, v.stderr], [3, "foobar\n", "err\n"]);
      const e = (await ok("command.run", "echo -n $BLIPPYFOO", { env: { BLIPPYFOO: "awesome" } })) as Record<string, WireValue>;
      assert.equal(e.stdout, "awesome");
    });

    it("a timeout kills the whole process tree", async () => {
      const marker = join(dir, "survivor");
      const started = Date.now();
      const v = (await ok("command.run", `(sleep 3; touch ${marker}) & sleep 30`, { timeout: 1 })) as Record<string, WireValue>;
      assert.equal(v.timed_out, true);
      assert.ok(Date.now() - started < 10_000);
      await new Promise((r) => setTimeout(r, 3500));
      assert.ok(!existsSync(marker), "the background child was killed with the group");
    });

    it("caps output and says so", async () => {
      const v = (await ok("command.run", "head -c 100000 /dev/zero | tr '\\0' x")) as Record<string, WireValue>;
      assert.equal(v.truncated, true);
      assert.ok((v.stdout as string).length < 5000);
      assert.match(v.stdout as string, /output truncated/);
    });

    it("keeps ANSI escapes (they travel as base64 and come back as text)", async () => {
      const v = (await ok("command.run", "printf '\\033[31mred\\033[0m'")) as Record<string, WireValue>;
      assert.equal(v.stdout, "\x1b[31mred\x1b[0m");
    });
  });

  describe("file", () => {
    it("writes, reads, checksums and stats under a root; unchanged content is not rewritten", async () => {
      const p = join(root, "motd");
      const w = (await ok("file.write", p, "hello\n", { mode: 0o640 })) as Record<string, WireValue>;
      assert.equal(w.written, true);
      assert.equal(readFileSync(p, "utf8"), "hello\n");
      assert.equal(((await ok("file.write", p, "hello\n")) as Record<string, WireValue>).written, false);
      const r = (await ok("file.read", p)) as Record<string, WireValue>;
      assert.equal(r.data, "hello\n");
      assert.equal(r.eof, true);
      assert.equal(await ok("file.checksum", p), "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
      const st = (await ok("file.stat", p)) as Record<string, WireValue>;
      assert.deepEqual([st.type, st.size, st.mode], ["file", 6, 0o640]);
    });

    it("refuses paths outside the roots: absolute, .., symlinks, relative, NUL", async () => {
      symlinkSync("/etc", join(root, "etc-link"));
      for (const p of ["/etc/hostname", join(root, "../outside"), join(root, "etc-link/hostname"), "relative/path", `${root}/a\0b`]) {
        const r = await call("file.read", p);
        assert.notEqual(r.outcome, "ok", p);
      }
      const w = await call("file.write", join(root, "etc-link/evil"), "x");
      assert.equal(w.outcome, "denied");
      assert.ok(!existsSync("/etc/evil"));
      writeFileSync(join(dir, "outside"), "secret");
      assert.equal((await call("file.read", join(root, "..", "outside"))).outcome, "denied");
    });
  });

  describe("facts and processes", () => {
    it("hardware.info, disk.usage, process.info/loadavg", async () => {
      const hw = (await ok("hardware.info")) as Record<string, WireValue>;
      assert.ok((hw.cpus as number) >= 1);
      assert.ok((hw.memory_total as number) > 0);
      const disk = (await ok("disk.usage", "/")) as Record<string, Record<string, number>>;
      assert.ok(Object.values(disk)[0]!.total! > 0);
      const procs = (await ok("process.info")) as Record<string, WireValue>[];
      assert.ok(procs.some((p) => p.pid === process.pid));
      assert.equal(((await ok("process.loadavg")) as number[]).length, 3);
      assert.equal((await call("process.kill", 1)).outcome, "error");
      assert.equal((await call("process.kill", 99999999, "BOGUS")).outcome, "error");
    });

    it("system introspection lists every module and shows help with a CLI example", async () => {
      const mods = (await ok("system.list_modules")) as string[];
      for (const name of ["command", "disk", "file", "hardware", "process", "service", "system", "test"]) assert.ok(mods.includes(name), name);
      const help = (await ok("system.method_help", "command.run")) as Record<string, string>;
      assert.match(help.signature!, /^command\.run\(cmd: string, options\?: struct\)$/);
      assert.match(help.example!, /^func /);
      assert.equal((await call("system.method_help", "nope.nope")).outcome, "error");
    });

    it("service names are checked before anything runs", async () => {
      for (const bad of ["-x", "a;rm -rf /", "../../bin/sh", ""]) {
        const r = await call("service.status", bad);
        assert.equal(r.outcome, "error", bad);
        assert.equal(r.outcome === "error" && r.error.code, 4);
      }
    });
  });

  describe("the signature table on the wire", () => {
    const fault = async (method: string, ...params: unknown[]): Promise<string> => {
      const r = await call(method, ...params);
      assert.ok(r.outcome === "error" && r.error.code === 4, `${method}: ${JSON.stringify(r)}`);
      return r.outcome === "error" ? r.error.message : "";
    };

    it("a string parameter refuses base64 bytes (process.pkill with a base64 name kills nothing): fault 4 naming it", async () => {
      assert.match(await fault("process.pkill", Buffer.from("sleep")), /process\.pkill: argument 1 \(name\) must be a string, got bytes/);
      assert.match(await fault("command.exists", 42), /argument 1 \(path\) must be a string, got int/);
    });

    it("a missing argument, a wrong count, a bad struct field and a value out of range are fault 4 naming the argument", async () => {
      assert.match(await fault("command.run"), /command\.run takes 1 to 2 argument\(s\), got 0: cmd is missing/);
      assert.match(await fault("test.ping", 1), /test\.ping takes 0 argument\(s\), got 1/);
      assert.match(await fault("command.run", "true", { bogus: 1 }), /argument 2 \(options\) has no field "bogus"/);
      assert.match(await fault("file.read", join(root, "x"), -1), /argument 2 \(offset\) must be an int >= 0/);
      assert.match(await fault("process.kill", 1), /argument 1 \(pid\) must be an int >= 2/);
    });

    it("a string with control characters travels as base64 and reaches a string parameter as that string", async () => {
      const v = (await ok("command.run", "printf '%s' '\x1b[1mbold'")) as Record<string, WireValue>;
      assert.equal(v.stdout, "\x1b[1mbold");
    });
  });
});
