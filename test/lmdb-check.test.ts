// The LMDB file check (packages/shared/src/lmdb-check.ts) against real stores written by the lmdb package:
// sound stores of every shape pass; overwritten, truncated and foreign files are refused with the file's name
// and the way to recover; and whatever it lets through, LMDB really opens and reads without crashing.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import { checkLmdbFile, FuncError } from "@func/shared";

/** A child process that opens the store and reads every entry: exit 0, or how it died. */
function lmdbReads(file: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  // values as raw bytes, so every page (overflow ones too) is read and nothing is decoded
  const script = `import("lmdb").then(async ({ open }) => {
    const db = open({ path: ${JSON.stringify(file)}, compression: false, encoding: "binary" });
    let n = 0;
    for (const e of db.getRange({})) n += e.value.length;
    if (db.get("__no_such_key__") === undefined) n++;
    for (const [name, dupSort] of [["a", false], ["b", true]]) for (const e of db.openDB({ name, dupSort, encoding: "binary" }).getRange({})) n += e.value.length;
    await db.close();
  })`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: process.cwd(), encoding: "utf8", timeout: 30_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

async function makeStore(file: string, fill: (db: ReturnType<typeof open>) => Promise<void>): Promise<void> {
  mkdirSync(join(file, ".."), { recursive: true });
  const db = open({ path: file, compression: false });
  await fill(db);
  await db.close();
}

function refused(file: string, pattern: RegExp): void {
  assert.throws(() => checkLmdbFile(file), (err: unknown) => {
    assert.ok(err instanceof FuncError);
    assert.equal(err.type, "StoreError");
    assert.ok(err.message.includes(file), "names the file");
    assert.match(err.message, /mv .* \S+\.damaged/, "says how to recover");
    assert.match(err.message, pattern);
    return true;
  });
}

describe("LMDB file check", function () {
  this.timeout(60_000);
  let dir: string;
  let sample: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "func-lmdb-check-"));
    sample = join(dir, "sample", "data.mdb");
    await makeStore(sample, async (db) => {
      for (let i = 0; i < 6000; i++) void db.put(["job", `id${String(i).padStart(5, "0")}`], { i, text: "y".repeat(200) });
      void db.put(["big"], { blob: "z".repeat(200_000) });
      await db.flushed;
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const copy = (name: string): string => {
    const file = join(dir, name, "data.mdb");
    mkdirSync(join(dir, name), { recursive: true });
    copyFileSync(sample, file);
    return file;
  };

  it("passes sound stores: missing, empty, fresh, deep, with overflow values, sub-databases and duplicates", async () => {
    checkLmdbFile(join(dir, "nothing", "data.mdb"));
    const empty = join(dir, "empty", "data.mdb");
    mkdirSync(join(dir, "empty"));
    writeFileSync(empty, "");
    checkLmdbFile(empty);
    await makeStore(join(dir, "fresh", "data.mdb"), async () => {});
    checkLmdbFile(join(dir, "fresh", "data.mdb"));
    checkLmdbFile(sample);
    assert.ok(statSync(sample).size > 1024 * 1024, "the sample spans many pages");
    const sub = join(dir, "sub", "data.mdb");
    await makeStore(sub, async (db) => {
      const a = db.openDB({ name: "a" });
      const b = db.openDB({ name: "b", dupSort: true });
      for (let i = 0; i < 500; i++) {
        await a.put(`k${i}`, { v: "x".repeat(i * 10) });
        await b.put("same", `v${i}`);
      }
    });
    checkLmdbFile(sub);
    const read = lmdbReads(sub);
    assert.equal(read.status, 0, read.stderr);
  });

  it("refuses an overwritten start, a truncated file and a foreign file, naming the file and the way out", () => {
    const overwritten = copy("overwritten");
    const fd = openSync(overwritten, "r+");
    writeSync(fd, randomBytes(8192), 0, 8192, 0);
    closeSync(fd);
    refused(overwritten, /meta page/);

    const half = copy("half");
    truncateSync(half, Math.floor(statSync(half).size / 2));
    refused(half, /truncated/);

    const tiny = copy("tiny");
    truncateSync(tiny, 100);
    refused(tiny, /meta page|truncated/);

    const foreign = join(dir, "foreign", "data.mdb");
    mkdirSync(join(dir, "foreign"));
    writeFileSync(foreign, "this is not a database\n".repeat(1000));
    refused(foreign, /meta page/);
  });

  it("what LMDB would crash on is refused: the damaged files kill a process that opens them", function () {
    const half = copy("half-proof");
    truncateSync(half, Math.floor(statSync(half).size / 2));
    const overwritten = copy("overwritten-proof");
    const fd = openSync(overwritten, "r+");
    writeSync(fd, randomBytes(8192), 0, 8192, 0);
    closeSync(fd);
    for (const file of [half, overwritten]) {
      const r = lmdbReads(file);
      assert.notEqual(r.status, 0, `LMDB read ${file} without trouble: this damage does not prove the point`);
      assert.throws(() => checkLmdbFile(file));
    }
  });

  it("never lets through a page overwritten with garbage that LMDB then crashes on (10 random pages)", function () {
    const pages = Math.floor(statSync(sample).size / 4096);
    for (let k = 0; k < 10; k++) {
      const file = copy(`garbage-${k}`);
      const page = 2 + Math.floor(Math.random() * (pages - 2));
      const fd = openSync(file, "r+");
      writeSync(fd, randomBytes(4096), 0, 4096, page * 4096);
      closeSync(fd);
      let passed = true;
      try {
        checkLmdbFile(file);
      } catch {
        passed = false;
      }
      if (passed) {
        const r = lmdbReads(file);
        assert.ok(r.signal === null, `page ${page}: the check passed but LMDB died of ${r.signal}`);
      }
    }
  });

  it("after moving the damaged file aside, the store opens empty", async () => {
    const half = copy("recover");
    truncateSync(half, 4096 * 3);
    refused(half, /truncated|meta/);
    rmSync(half);
    const db = open({ path: half, compression: false });
    await db.put("k", 1);
    await db.close();
    checkLmdbFile(half);
  });
});
