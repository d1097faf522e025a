// system.inventory against a real fleet: it matches what each minion serves (a minion's own extra module
// too), the overlord caches it in its home, and the CLI types the words of that extra method by it.

import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, FUNC_VERSION, SIGNATURES, STORE_FORMATS, defineModule, homePaths, param, processRunning, t } from "@func/shared";
import { implement, startMinion, type StartedMinion } from "@func/minion";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";
import { eventually } from "./helpers/procs.js";

const GREET = defineModule({
  name: "greet",
  description: "A minion's own module (not in the built-in table)",
  methods: {
    hello: {
      doc: "Greets name, times times.",
      example: 'func "*" call greet hello bob 2',
      params: [param("name", t.string()), param("times", t.int({ min: 1, max: 5 }))],
    },
  },
});
const greetModule = implement(GREET, { hello: (_ctx, name, times) => Array.from({ length: times }, () => `hello ${name}`).join(", ") });

describe("system.inventory and the overlord's signature cache", function () {
  this.timeout(120_000);
  let fleet: TestFleet;
  let own: StartedMinion;
  let cacheDir: string;

  before(async () => {
    fleet = await startFleet("inventory", 130, 2);
    cacheDir = join(homePaths(fleet.home).stateDir, "signatures");
    // minion02 is replaced by an in-process funcd on the same home and address, serving one extra module
    const m2 = fleet.minions[1]!;
    process.kill(m2.pid, "SIGTERM");
    assert.ok(await eventually(() => !processRunning(m2.pid, "funcd"), 20_000), "minion02's funcd stopped");
    own = await startMinion(homePaths(m2.home), {}, { modules: [greetModule] });
  });
  after(async () => {
    await own?.close();
    await fleet?.stop();
  });

  it("answers every module and method the minion serves, with its schema, and the CLI caches it", async () => {
    const r = await func(fleet.home, ["*", "call", "system", "inventory", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const hosts = JSON.parse(r.stdout).hosts;
    const one = hosts.minion01.value;
    assert.equal(one.funcd_version, FUNC_VERSION);
    const byName = (mods: { name: string }[]) => [...mods].sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(byName(one.modules), byName(JSON.parse(JSON.stringify(SIGNATURES))));
    const two = hosts.minion02.value.modules as { name: string; methods: Record<string, unknown> }[];
    assert.deepEqual(two.map((m) => m.name).sort(), [...SIGNATURES.map((m) => m.name), "greet"].sort());
    assert.deepEqual(two.find((m) => m.name === "greet"), JSON.parse(JSON.stringify(GREET)));
    // what the minion serves is what it lists
    const listed = await func(fleet.home, ["minion02", "call", "system", "list_methods", "--json"]);
    const methods = two.flatMap((m) => Object.keys(m.methods).map((k) => `${m.name}.${k}`)).sort();
    assert.deepEqual(JSON.parse(listed.stdout).hosts.minion02.value, methods);
    for (const h of ["minion01", "minion02"]) assert.ok(existsSync(join(cacheDir, `${h}.json`)), `${h} cached`);
    assert.equal(JSON.parse(readFileSync(join(cacheDir, "minion02.json"), "utf8")).funcd_version, FUNC_VERSION);
  });

  it("types the words of a minion's own method by its cached signature: 007 stays a string", async () => {
    const r = await func(fleet.home, ["minion02", "call", "greet", "hello", "007", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).hosts.minion02.value, "hello 007, hello 007");
  });

  it("refuses a bad call of that method once, before fan-out, in one line", async () => {
    const r = await func(fleet.home, ["minion02", "call", "greet", "hello", "bob", "9"]);
    assert.equal(r.code, EXIT.USAGE, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr.trim(), /^func: greet\.hello: argument 2 \(times\) must be an int 1\.\.5, got int \(usage: func "\*" call greet hello bob 2\)$/);
  });

  it("with no cached inventory, asks the minion for it first", async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    const r = await func(fleet.home, ["minion02", "call", "greet", "hello", "true", "1", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).hosts.minion02.value, "hello true");
    assert.ok(existsSync(join(cacheDir, "minion02.json")));
  });

  it("a cached inventory a newer func wrote is fetched again (a cache is never refused)", async () => {
    const file = join(cacheDir, "minion02.json");
    writeFileSync(file, JSON.stringify({ format: 99, funcd_version: "99.0.0", modules: [], fetched: Math.floor(Date.now() / 1000) }));
    const r = await func(fleet.home, ["minion02", "call", "greet", "hello", "true", "1", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).hosts.minion02.value, "hello true");
    const cached = JSON.parse(readFileSync(file, "utf8")) as { format: number; funcd_version: string };
    assert.deepEqual([cached.format, cached.funcd_version], [STORE_FORMATS.signatureCache.version, FUNC_VERSION]);
  });

  it("method_help reads the table, for the minion's own methods too", async () => {
    const r = await func(fleet.home, ["minion02", "call", "system", "method_help", "greet.hello", "--json"]);
    assert.deepEqual(JSON.parse(r.stdout).hosts.minion02.value, {
      signature: "greet.hello(name: string, times: int)",
      doc: "Greets name, times times.",
      example: 'func "*" call greet hello bob 2',
    });
  });
});
