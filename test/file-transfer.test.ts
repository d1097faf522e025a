// copyfile and getfile against real minions (funcd processes of a real fleet): chunked, checked by SHA-256,
// atomic with mode and backups, skipped when unchanged, Func's option spellings, "/" destinations, missing
// directories, paths outside the roots, uploads abandoned or cut by a funcd that died leave no temp file.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { homePaths, type HostResult, type WireValue } from "@func/shared";
import { MinionTransport } from "@func/overlord";
import { funcdArgs } from "@func/overlord/fleet";
import { eventually } from "./helpers/procs.js";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const temps = (dir: string) => readdirSync(dir).filter((e) => e.includes(".func-"));

describe("file transfer (copyfile, getfile, uploads)", function () {
  this.timeout(180_000);
  let fleet: TestFleet;
  let root: string;
  let outside: string;
  let t: MinionTransport;
  let host: string;
  /** a funcd this file started by hand (func-fleet down knows only the ones it started) */
  let restarted: number | undefined;

  const minion = () => fleet.minions.find((m) => m.name === host)!;
  const call = (method: string, ...params: unknown[]): Promise<HostResult> =>
    t.call({ name: host, host: minion().address, port: minion().port }, method, params, { timeoutMs: 30_000 });
  const ok = async (method: string, ...params: unknown[]): Promise<Record<string, WireValue>> => {
    const r = await call(method, ...params);
    assert.equal(r.outcome, "ok", JSON.stringify(r));
    return (r as { value: Record<string, WireValue> }).value;
  };

  before(async () => {
    const base = join((await import("node:os")).tmpdir(), `func-files-${process.pid}`);
    root = join(base, "root");
    outside = join(base, "outside");
    mkdirSync(root, { recursive: true });
    mkdirSync(outside, { recursive: true });
    fleet = await startFleet("files", 120, 1, { minionConf: { file_roots: root, upload_expiry: "3", file_backups: "2" } });
    host = fleet.minions[0]!.name;
    const p = homePaths(fleet.home);
    t = new MinionTransport({ key: readFileSync(p.overlordKey, "utf8"), cert: readFileSync(p.overlordCert, "utf8"), ca: readFileSync(p.caCert, "utf8") });
  });
  after(async () => {
    t?.close();
    if (restarted) process.kill(restarted, "SIGTERM");
    await fleet?.stop();
    if (root) rmSync(join(root, ".."), { recursive: true, force: true });
  });

  it("copyfile sends a multi-chunk file checked by SHA-256, with the local mode; the same again is skipped", async () => {
    const local = join(outside, "blob");
    const data = randomBytes(7 * 1024 * 1024 + 123);
    writeFileSync(local, data);
    chmodSync(local, 0o640);
    const remote = join(root, "blob");
    const r = await func(fleet.home, ["*", "copyfile", local, remote, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const v = JSON.parse(r.stdout).hosts[host].value;
    assert.deepEqual([v.written, v.size, v.sha256, v.backup], [true, data.length, sha(data), null]);
    assert.equal(sha(readFileSync(remote)), sha(data));
    assert.equal(statSync(remote).mode & 0o777, 0o640);
    const again = await func(fleet.home, ["*", "copyfile", local, remote, "--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).hosts[host].value.written, false);
    assert.deepEqual(temps(root), []);
    assert.ok(!readdirSync(root).some((e) => e.startsWith("blob.")), "no backup when nothing changed");
  });

  it("keeps the replaced file as path.YYYY-MM-DD@HH:MM~, at most file_backups of them", async () => {
    const local = join(outside, "conf");
    const remote = join(root, "conf");
    for (let i = 0; i < 4; i++) {
      writeFileSync(local, `version ${i}\n`);
      const r = await func(fleet.home, ["*", "copyfile", local, remote]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    assert.equal(readFileSync(remote, "utf8"), "version 3\n");
    const backups = readdirSync(root).filter((e) => e.startsWith("conf."));
    assert.equal(backups.length, 2, backups.join(" "));
    for (const b of backups) assert.match(b, /^conf\.\d{4}-\d\d-\d\d@\d\d:\d\d(\.\d+)?~$/);
    assert.deepEqual(backups.map((b) => readFileSync(join(root, b), "utf8")).sort(), ["version 1\n", "version 2\n"]);
  });

  it("Func's spellings: copyfile -f LOCAL --remotepath DIR/ (into the directory), getfile -r FILE -l DIR", async () => {
    const local = join(outside, "motd");
    writeFileSync(local, "hello\n");
    mkdirSync(join(root, "etc"), { recursive: true });
    const r = await func(fleet.home, ["*", "copyfile", "-f", local, "--remotepath", join(root, "etc") + "/"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(join(root, "etc", "motd"), "utf8"), "hello\n");
    const into = join(outside, "pulled");
    const g = await func(fleet.home, ["*", "getfile", "-r", join(root, "etc", "motd"), "-l", into]);
    assert.equal(g.code, 0, g.stderr + g.stdout);
    assert.equal(readFileSync(join(into, host, "motd"), "utf8"), "hello\n");
  });

  it("a missing directory, a directory as the target, a path outside the roots: errors, nothing created", async () => {
    const local = join(outside, "motd");
    const missing = await func(fleet.home, ["*", "copyfile", local, join(root, "nodir") + "/"]);
    assert.equal(missing.code, 2, missing.stdout);
    assert.match(missing.stdout, /does not exist/);
    assert.ok(!existsSync(join(root, "nodir")));
    const isDir = await func(fleet.home, ["*", "copyfile", local, join(root, "etc")]);
    assert.equal(isDir.code, 2, isDir.stdout);
    assert.match(isDir.stdout, /is a directory/);
    const out = await func(fleet.home, ["*", "copyfile", local, join(outside, "evil")]);
    assert.equal(out.code, 2, out.stdout);
    assert.match(out.stdout, /denied/);
    assert.ok(!existsSync(join(outside, "evil")));
    assert.deepEqual(temps(root), []);
    assert.deepEqual(temps(join(root, "etc")), []);
  });

  it("usage errors are one line, exit 1: a missing path, an unknown option, a bad --mode, a missing local file", async () => {
    for (const args of [["copyfile", "/x"], ["getfile", "-r", "/x"], ["copyfile", "--bogus", "/a", "/b"], ["copyfile", "--mode", "9x", "/a", "/b"], ["copyfile", "/no/such/file", "/b"], ["getfile", "/x/a\x1bb", "/tmp/x"]]) {
      const r = await func(fleet.home, ["*", ...args]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it("getfile pulls a multi-chunk file into DIR/<host>/<name>; planted symlinks are never written through", async () => {
    const data = randomBytes(9 * 1024 * 1024 + 7);
    writeFileSync(join(root, "big"), data);
    const into = join(outside, "collect");
    mkdirSync(join(into, host), { recursive: true });
    const victim = join(outside, "victim");
    writeFileSync(victim, "untouched");
    symlinkSync(victim, join(into, host, "big"));
    const r = await func(fleet.home, ["*", "getfile", join(root, "big"), into, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(JSON.parse(r.stdout).hosts[host].value.sha256, sha(data));
    assert.ok(lstatSync(join(into, host, "big")).isFile(), "the planted link was replaced, not followed");
    assert.equal(sha(readFileSync(join(into, host, "big"))), sha(data));
    assert.equal(readFileSync(victim, "utf8"), "untouched");
    // the host directory itself planted as a link: that host fails, nothing lands where it points
    const into2 = join(outside, "collect2");
    mkdirSync(into2);
    mkdirSync(join(outside, "elsewhere"));
    symlinkSync(join(outside, "elsewhere"), join(into2, host));
    const r2 = await func(fleet.home, ["*", "getfile", join(root, "big"), into2]);
    assert.equal(r2.code, 2, r2.stdout);
    assert.match(r2.stdout, /symbolic link/);
    assert.deepEqual(readdirSync(join(outside, "elsewhere")), []);
    // --max-size bounds what is accepted
    const r3 = await func(fleet.home, ["*", "getfile", join(root, "big"), join(outside, "collect3"), "--max-size", "1M"]);
    assert.equal(r3.code, 2, r3.stdout);
    assert.match(r3.stdout, /LimitExceeded/);
    assert.ok(!existsSync(join(outside, "collect3", host, "big")));
  });

  it("the upload protocol refuses bad input and changes nothing: wrong types, missing arguments, bad ids, offsets, hashes, huge sizes", async () => {
    const p = join(root, "proto");
    const id = randomBytes(16).toString("hex");
    const hash = sha("hello");
    const bad: unknown[][] = [
      ["file.upload_begin", id, p, 5], // missing sha256
      ["file.upload_begin", "short", p, 5, hash],
      ["file.upload_begin", id, p, -1, hash],
      ["file.upload_begin", id, p, "5", hash],
      ["file.upload_begin", id, p, 5, "nothex"],
      ["file.upload_begin", id, "relative", 5, hash],
      ["file.upload_begin", id, p, 5, hash, { mode: 0o4755 }],
      ["file.upload_begin", id, p, 5, hash, { bogus: 1 }],
      ["file.upload_begin", id, p, 2 ** 52, hash],
      ["file.upload_chunk", id, 0, "hello"], // no such upload
    ];
    for (const args of bad) {
      const r = await call(...(args as [string, ...unknown[]]));
      assert.notEqual(r.outcome, "ok", JSON.stringify(args));
      assert.ok([3, 4, 5].includes((r as { error: { code: number } }).error.code), JSON.stringify(r));
    }
    const begun = await ok("file.upload_begin", id, p, 5, hash);
    assert.equal(begun.upload, id);
    assert.equal((await call("file.upload_chunk", id, 0, 42)).outcome, "error", "data must be bytes");
    assert.equal((await call("file.upload_chunk", id, -1, "x")).outcome, "error", "offsets are >= 0");
    assert.equal((await call("file.upload_chunk", id, 0, "hello!")).outcome, "error", "past the declared size");
    assert.equal((await ok("file.upload_chunk", id, 2, "llO")).received, 3, "chunks may come out of order");
    assert.equal((await call("file.upload_chunk", id, 1, "el")).outcome, "error", "but never overlap");
    assert.equal((await ok("file.upload_chunk", id, 0, "he")).received, 5);
    const wrong = await call("file.upload_commit", id, hash);
    assert.equal(wrong.outcome, "error");
    assert.match(JSON.stringify(wrong), /hash to/);
    assert.ok(!existsSync(p));
    assert.deepEqual(temps(root), []);
    // a commit before every byte came is refused and drops the upload
    const id2 = randomBytes(16).toString("hex");
    await ok("file.upload_begin", id2, p, 10, sha("0123456789"));
    await ok("file.upload_chunk", id2, 5, "56789");
    assert.match(JSON.stringify(await call("file.upload_commit", id2, sha("0123456789"))), /has 5 of 10 bytes/);
    assert.ok(!existsSync(p));
    assert.deepEqual(temps(root), []);
    // out of order but complete: committed, hashed right
    const id3 = randomBytes(16).toString("hex");
    await ok("file.upload_begin", id3, p, 10, sha("0123456789"));
    await ok("file.upload_chunk", id3, 5, "56789");
    await ok("file.upload_chunk", id3, 0, "01234");
    assert.equal((await ok("file.upload_commit", id3, sha("0123456789"))).written, true);
    assert.equal(readFileSync(p, "utf8"), "0123456789");
  });

  it("an abandoned upload's temp file is removed at upload_expiry", async () => {
    const id = randomBytes(16).toString("hex");
    await ok("file.upload_begin", id, join(root, "abandoned"), 10, sha("0123456789"));
    await ok("file.upload_chunk", id, 0, "01234");
    assert.equal(temps(root).length, 1);
    assert.ok(await eventually(() => temps(root).length === 0, 30_000), "expired upload removed");
    assert.equal((await call("file.upload_chunk", id, 5, "56789")).outcome, "error");
  });

  it("a funcd that died mid-upload: the next one removes the temp file when it starts", async () => {
    const id = randomBytes(16).toString("hex");
    await ok("file.upload_begin", id, join(root, "cut"), 10, sha("0123456789"));
    await ok("file.upload_chunk", id, 0, "01234");
    assert.equal(temps(root).length, 1);
    process.kill(minion().pid, "SIGKILL");
    await eventually(() => {
      try {
        process.kill(minion().pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const child = spawn(process.execPath, funcdArgs([join(fleet.home, "minions", host)]), { detached: true, stdio: "ignore" });
    child.unref();
    minion().pid = restarted = child.pid!;
    assert.ok(await eventually(async () => (await call("test.ping")).outcome === "ok", 30_000), "funcd back");
    assert.ok(await eventually(() => temps(root).length === 0, 10_000), "the stale temp file was removed at start");
  });
});
