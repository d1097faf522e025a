// The daily modules against a real 2-minion fleet: mount, portinfo, network, packages, sysctl (reads),
// service, filetracker, reboot (pointed at a harmless command), facts, inventory() on every module, `show`
// and fact filters through the real CLI; bad input sent straight to a minion gets fault 4 naming the argument.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, REBOOT_CONFIRM, SIGNATURES, type WireValue } from "@func/shared";
import { directCaller, type DirectCaller } from "./helpers/direct.js";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";
import { eventually } from "./helpers/procs.js";

type Struct = Record<string, WireValue>;

describe("daily modules against a real fleet", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let minion: DirectCaller;
  let work: string;
  const raw = (method: string, ...params: unknown[]) => minion.raw(method, ...params);
  const ok = (method: string, ...params: unknown[]) => minion.ok(method, ...params);
  const fault4 = (method: string, params: unknown[], re: RegExp) => minion.fault4(method, params, re);

  before(async () => {
    work = join(process.env.TMPDIR ?? "/tmp", `func-daily-${process.pid}`);
    mkdirSync(work, { recursive: true });
    fleet = await startFleet("daily", 131, 2, { minionConf: { reboot_command: `touch ${join(work, "rebooted")}`, reboot_delay: "0.5" } });
    minion = directCaller(fleet.home, "minion01");
  });
  after(async () => {
    await minion?.close();
    await fleet?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("mount.list: the root file system and /proc, with options", async () => {
    const mounts = (await ok("mount.list")) as Struct[];
    assert.ok(mounts.some((m) => m.mount === "/"), JSON.stringify(mounts.slice(0, 3)));
    const proc = mounts.find((m) => m.mount === "/proc");
    assert.ok(proc && proc.fstype === "proc" && Array.isArray(proc.options));
  });

  it("portinfo.listen_ports: funcd's own port, with its pid", async () => {
    const ports = (await ok("portinfo.listen_ports")) as Struct[];
    const m1 = fleet.minions[0]!;
    const mine = ports.find((p) => p.port === m1.port && p.address === m1.address && p.protocol === "tcp");
    assert.ok(mine, JSON.stringify(ports));
    assert.equal(mine.pid, m1.pid);
    assert.ok(typeof mine.command === "string" && mine.command.length > 0);
  });

  it("network: interfaces (lo with 127.0.0.1), routes, reachable against loopback only", async () => {
    const ifs = (await ok("network.interfaces")) as Record<string, Struct>;
    assert.ok((ifs.lo!.addresses as Struct[]).some((a) => a.address === "127.0.0.1"), JSON.stringify(ifs.lo));
    assert.ok(Array.isArray(await ok("network.routes")));
    const m1 = fleet.minions[0]!;
    const up = (await ok("network.reachable", m1.address, m1.port)) as Struct;
    assert.equal(up.reachable, true, JSON.stringify(up));
    // nothing listens on port 9 of this loopback address: refused at once
    const down = (await ok("network.reachable", "127.131.0.99", 9, 2)) as Struct;
    assert.deepEqual([down.reachable, down.error], [false, "ECONNREFUSED"]);
    await fault4("network.reachable", ["a;rm -rf /", 80], /argument 1 \(host\)/);
    await fault4("network.reachable", ["127.0.0.1", 70000], /argument 2 \(port\) must be an int 1\.\.65535/);
    await fault4("network.reachable", ["127.0.0.1"], /takes 2 to 3 argument\(s\), got 1: port is missing/);
  });

  it("packages: list, info, installed through the host's package manager", async function () {
    const list = (await ok("packages.list")) as Record<string, string>;
    if (Object.keys(list).length === 0) this.skip(); // a host without dpkg-query or rpm packages
    const name = list.bash !== undefined ? "bash" : Object.keys(list)[0]!;
    const info = (await ok("packages.info", name)) as Struct;
    assert.deepEqual([info.name, info.version], [name, list[name]]);
    assert.equal(await ok("packages.installed", name), true);
    assert.equal(await ok("packages.installed", "func-no-such-package-xyz"), false);
    await fault4("packages.installed", ["-rf"], /argument 1 \(name\)/);
    await fault4("packages.info", [7], /argument 1 \(name\) must be a string, got int/);
  });

  it("sysctl: list and get read /proc/sys; keys are checked", async () => {
    const all = (await ok("sysctl.list")) as Record<string, string>;
    assert.equal(all["kernel.ostype"], "Linux");
    assert.equal(await ok("sysctl.get", "kernel.ostype"), "Linux");
    const missing = await raw("sysctl.get", "kernel.no_such_key");
    assert.ok(missing.outcome === "error" && /no key kernel\.no_such_key/.test(missing.error.message), JSON.stringify(missing));
    for (const bad of ["../../etc/passwd", "kernel/ostype", "kernel..ostype", "", ".kernel"]) await fault4("sysctl.get", [bad], /argument 1 \(key\)/);
    await fault4("sysctl.set", ["kernel.ostype"], /value is missing/);
  });

  it("service: enabled and get_enabled answer; names are checked", async () => {
    assert.ok(Array.isArray(await ok("service.get_enabled")));
    assert.equal(await ok("service.enabled", "func-no-such-service"), false);
    await fault4("service.enabled", ["-x"], /argument 1 \(name\)/);
  });

  it("filetracker: track globs, inventory with mode/owner/size/mtime/sha256, diff what changed", async () => {
    const dir = join(work, "tracked");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.conf"), "one\n");
    writeFileSync(join(dir, "b.conf"), "two\n");
    writeFileSync(join(dir, "c.txt"), "not tracked\n");
    assert.deepEqual(await ok("filetracker.track", [join(dir, "*.conf")]), [join(dir, "*.conf")]);
    const inv = (await ok("filetracker.inventory")) as Record<string, Struct>;
    assert.deepEqual(Object.keys(inv), [join(dir, "a.conf"), join(dir, "b.conf")]);
    const a = inv[join(dir, "a.conf")]!;
    assert.equal(a.sha256, "2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806"); // sha256("one\n")
    assert.deepEqual([a.type, a.size, typeof a.mode, typeof a.owner, typeof a.mtime], ["file", 4, "number", "string", "number"]);
    writeFileSync(join(dir, "a.conf"), "one, changed\n");
    rmSync(join(dir, "b.conf"));
    writeFileSync(join(dir, "d.conf"), "new\n");
    const diff = (await ok("filetracker.diff")) as Struct;
    assert.deepEqual(diff.added, [join(dir, "d.conf")]);
    assert.deepEqual(diff.removed, [join(dir, "b.conf")]);
    const changed = (diff.changed as Record<string, Struct>)[join(dir, "a.conf")]!;
    assert.deepEqual(changed.size, [4, 13]);
    assert.ok(changed.sha256);
    assert.deepEqual(await ok("filetracker.untrack", [join(dir, "*.conf")]), []);
    await fault4("filetracker.track", [["relative/*.conf"]], /argument 1 \(globs\)\[0\] must be a string matching/);
    await fault4("filetracker.track", ["/etc/*"], /argument 1 \(globs\) must be an array/);
    await fault4("filetracker.track", [[]], /at least 1 items/);
  });

  it("reboot.now refuses without the literal and runs reboot_command (harmless here) after answering", async () => {
    const marker = join(work, "rebooted");
    await fault4("reboot.now", ["yes"], /confirm must be "yes-reboot-now"; nothing was done/);
    await fault4("reboot.now", [], /confirm is missing/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!existsSync(marker), "a refused reboot ran nothing");
    const v = (await ok("reboot.now", REBOOT_CONFIRM)) as Struct;
    assert.deepEqual([v.scheduled, v.delay, v.command], [true, 0.5, `touch ${marker}`]);
    assert.ok(await eventually(() => existsSync(marker), 20_000), "reboot_command ran");
  });

  it("facts.get: os, kernel, arch, cpus, memory, names, addresses, virtualisation, funcd version", async () => {
    const f = (await ok("facts.get")) as Struct;
    for (const k of ["os", "os_version", "kernel", "arch", "hostname", "fqdn", "addresses", "virtualisation", "funcd_version"]) assert.equal(typeof f[k], "string", k);
    for (const k of ["cpus", "memory"]) assert.ok(typeof f[k] === "number" && f[k] > 0, k);
  });

  it("inventory() on every module that has one answers plain data", async () => {
    const withInventory = SIGNATURES.filter((m) => Object.hasOwn(m.methods, "inventory")).map((m) => m.name);
    assert.deepEqual(withInventory.sort(), ["filetracker", "hardware", "mount", "network", "packages", "service", "sysctl", "system", "users"]);
    for (const m of withInventory) {
      const v = await ok(`${m}.inventory`);
      assert.ok(v !== null && typeof v === "object", m);
    }
  });

  it("func <spec> show facts|hardware [keys..]", async () => {
    const r = await func(fleet.home, ["*", "show", "facts", "os", "cpus", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    for (const res of Object.values<{ value: Struct }>(JSON.parse(r.stdout).hosts)) assert.deepEqual(Object.keys(res.value), ["os", "cpus"]);
    const one = await func(fleet.home, ["minion01", "show", "hardware", "kernel"]);
    assert.match(one.stdout, /^minion01\s+ok\s+\S+/);
    const bad = await func(fleet.home, ["*", "show", "disks"]);
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /show takes hardware or facts/);
  });

  it("fact filters: only matching hosts run the method, and the summary says how many matched", async () => {
    const facts = (await ok("facts.get")) as Struct;
    const all = await func(fleet.home, ["*", "--filter", `os=${String(facts.os)},cpus>=1`, "call", "test", "ping", "--json"]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(JSON.parse(all.stdout).summary.ok, 2);
    assert.match(all.stderr, /filter: 2 matched of 2 asked/);
    const none = await func(fleet.home, ["*", "--filter", "cpus>=100000", "call", "test", "ping", "--json"]);
    assert.equal(none.code, EXIT.NO_MATCH, "a filter that leaves no host is exit 16, as a spec matching none");
    assert.deepEqual(JSON.parse(none.stdout).hosts, {});
    assert.match(none.stderr, /filter: 0 matched of 2 asked/);
    const either = await func(fleet.home, ["*", "--filteror", "cpus>=100000,kernel~" + String(facts.kernel).slice(0, 3), "call", "test", "ping"]);
    assert.match(either.stderr, /filter: 2 matched of 2 asked/);
    const bad = await func(fleet.home, ["*", "--filter", "os", "call", "test", "ping"]);
    assert.equal(bad.code, EXIT.USAGE);
    assert.match(bad.stderr, /bad fact filter clause "os"/);
  });

  it("a host whose facts cannot be read is reported with its outcome, not dropped", async () => {
    process.kill(fleet.minions[1]!.pid, "SIGTERM");
    assert.ok(await eventually(async () => (await func(fleet.home, ["minion02", "ping", "-t", "2"])).code !== 0, 20_000));
    const r = await func(fleet.home, ["*", "--filter", "cpus>=1", "-t", "3", "call", "test", "ping", "--json"]);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.hosts.minion01.outcome, "ok");
    assert.equal(doc.hosts.minion02.outcome, "unreachable");
    assert.match(doc.hosts.minion02.error.message, /facts for --filter/);
    assert.equal(r.code & EXIT.UNREACHABLE, EXIT.UNREACHABLE);
    assert.match(r.stderr, /filter: 1 matched of 2 asked, 1 with unreadable facts/);
    // as an async job: the matching host runs it, the unreadable one is in the job with its outcome
    const a = await func(fleet.home, ["*", "--filter", "cpus>=1", "-t", "3", "call", "--async", "test", "ping", "--json"]);
    assert.match(a.stderr, /filter: 1 matched of 2 asked, 1 with unreadable facts/);
    const job = JSON.parse(a.stdout);
    assert.equal(job.hosts.minion01.outcome, "ok");
    assert.equal(job.hosts.minion02.outcome, "unreachable");
    assert.match(job.hosts.minion02.error.message, /facts for --filter/);
    assert.equal(a.code & EXIT.UNREACHABLE, EXIT.UNREACHABLE);
    const none = await func(fleet.home, ["minion01", "--filter", "cpus>=100000", "call", "--async", "test", "ping"]);
    assert.equal(none.code, EXIT.NO_MATCH, none.stderr);
    assert.match(none.stderr, /no host of "minion01" passes the fact filter/);
  });
});
