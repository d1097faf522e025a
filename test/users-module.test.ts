// The `users` module against a real minion: reads from the user database, and add/lock/unlock/add_to_group/
// delete through useradd and friends on users and groups with a test prefix, removed after. Needs root.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { WireValue } from "@func/shared";
import { directCaller, type DirectCaller } from "./helpers/direct.js";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

type Struct = Record<string, WireValue>;
const PREFIX = `ft${process.pid % 100000}`;
const USER = `${PREFIX}_user`;
const GROUP = `${PREFIX}_grp`;

function tool(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
  } catch {
    // already gone
  }
}

describe("users module against a real minion", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let minion: DirectCaller;
  const raw = (method: string, ...params: unknown[]) => minion.raw(method, ...params);
  const ok = (method: string, ...params: unknown[]) => minion.ok(method, ...params);
  const fault4 = (method: string, params: unknown[], re: RegExp) => minion.fault4(method, params, re);

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // useradd needs root (CI runs as root)
    try {
      execFileSync("sh", ["-c", "command -v useradd && command -v getent"], { stdio: "ignore" });
    } catch {
      this.skip(); // no shadow tools on this host
    }
    fleet = await startFleet("users", 133, 1);
    minion = directCaller(fleet.home, "minion01");
  });
  after(async () => {
    tool("userdel", ["-r", USER]);
    tool("groupdel", [GROUP]);
    await minion?.close();
    await fleet?.stop();
  });

  it("reads: list, info, exists, groups, group_list", async () => {
    assert.ok(((await ok("users.list")) as string[]).includes("root"));
    const root = (await ok("users.info", "root")) as Struct;
    assert.deepEqual([root.uid, root.gid, root.home], [0, 0, "/root"]);
    assert.ok((root.groups as string[]).includes("root"));
    assert.equal(await ok("users.exists", "root"), true);
    assert.equal(await ok("users.exists", USER), false);
    assert.ok(((await ok("users.groups", "root")) as string[]).includes("root"));
    assert.equal(((await ok("users.group_list")) as Record<string, Struct>).root!.gid, 0);
  });

  it("add, lock, unlock, add_to_group, delete a test user; a test group", async () => {
    assert.equal(await ok("users.group_add", GROUP), true);
    const added = (await ok("users.add", USER, { shell: "/bin/sh", gecos: "func test" })) as Struct;
    assert.deepEqual([added.name, added.shell, added.gecos], [USER, "/bin/sh", "func test"]);
    assert.equal(await ok("users.exists", USER), true);
    assert.equal(await ok("users.lock", USER), true);
    assert.equal(((await ok("users.info", USER)) as Struct).locked, true);
    assert.equal(await ok("users.unlock", USER), true);
    assert.deepEqual(((await ok("users.add_to_group", USER, GROUP)) as string[]).includes(GROUP), true);
    const again = await raw("users.add", USER);
    assert.ok(again.outcome === "error" && /useradd: .*exists/.test(again.error.message), JSON.stringify(again));
    assert.equal(await ok("users.delete", USER, { remove_home: true }), true);
    assert.equal(await ok("users.exists", USER), false);
    assert.equal(await ok("users.group_delete", GROUP), true);
  });

  it("hostile names and options are refused before anything runs (fault 4 naming the argument)", async () => {
    for (const bad of ["-r", "root;id", "../x", "a b", "", "x".repeat(40)]) await fault4("users.add", [bad], /argument 1 \(name\)/);
    await fault4("users.add", [USER, { shell: "/bin/sh; rm -rf /" }], /options\)\.shell must be a string matching/);
    await fault4("users.add", [USER, { gecos: "a:b" }], /options\)\.gecos/);
    await fault4("users.add", [USER, { admin: true }], /has no field "admin"/);
    await fault4("users.add_to_group", [USER], /group is missing/);
    await fault4("users.delete", [5], /must be a string, got int/);
    assert.equal(await ok("users.exists", USER), false, "nothing was created");
  });

  it("the CLI refuses a hostile name once, before fan-out", async () => {
    const r = await func(fleet.home, ["*", "call", "users", "add", "root;id"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /users\.add: argument 1 \(name\) must be a string matching/);
  });
});
