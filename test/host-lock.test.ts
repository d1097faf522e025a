// The host lock (an abstract Unix socket): real processes take turns, a holder killed with SIGKILL frees it at
// once, and many processes writing one overlord job store at the same time lose nothing.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { newJobId, withHostLock } from "@func/shared";
import { JobStore } from "@func/overlord/job-store";
import { until } from "./helpers/jobs.js";

const SHARED_DIST = fileURLToPath(import.meta.resolve("@func/shared"));
const STORE_WRITER = fileURLToPath(new URL("./helpers/store-writer.js", import.meta.url));

/** Runs a node script; resolves with its exit code. */
function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? -1));
  });
}

describe("host lock", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "func-lock-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lets one process at a time in: read-modify-writes of a plain file from 4 processes add up", async () => {
    const file = join(dir, "counter");
    writeFileSync(file, "0");
    const key = `test:${file}`;
    // each step reads, yields to the event loop (inviting a race), then writes
    const script = `
      const { withHostLock } = await import(${JSON.stringify(SHARED_DIST)});
      const fs = await import("node:fs");
      for (let i = 0; i < 50; i++) {
        await withHostLock(${JSON.stringify(key)}, async () => {
          const n = Number(fs.readFileSync(${JSON.stringify(file)}, "utf8"));
          await new Promise((r) => setTimeout(r, 1));
          fs.writeFileSync(${JSON.stringify(file)}, String(n + 1));
        });
      }`;
    const codes = await Promise.all([1, 2, 3, 4].map(() => run(["--input-type=module", "-e", script])));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    assert.equal(readFileSync(file, "utf8"), "200");
  });

  it("is free again as soon as its holder is killed with SIGKILL", async () => {
    const key = `test:${dir}:killed`;
    const script = `
      const { withHostLock } = await import(${JSON.stringify(SHARED_DIST)});
      await withHostLock(${JSON.stringify(key)}, () => { process.stdout.write("held\\n"); return new Promise(() => setInterval(() => {}, 1000)); });`;
    const holder = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    holder.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await until("the holder to take the lock", () => (out.includes("held") ? true : undefined));
    await assert.rejects(withHostLock(key, () => 1, 300), /timed out/);
    holder.kill("SIGKILL");
    assert.equal(await withHostLock(key, () => 42, 10_000), 42);
  });

  it("16 processes writing one overlord job store at once: every host recorded, nothing lost", async function () {
    // 800 writes taking turns at one lock, 17 Node processes starting: minutes on a loaded 2-core machine
    this.timeout(240_000);
    const storeDir = join(dir, "jobs");
    const id = newJobId();
    const hosts = Array.from({ length: 16 }, (_, p) => Array.from({ length: 25 }, (_, i) => `w${p}-${i}`)).flat();
    const store = await JobStore.open(storeDir);
    try {
      await store.create({ id, spec: "*", module: "test", method: "ping", args: [], created: Date.now(), deadline: Date.now() + 3_600_000, hosts, dispatch: { forks: 1, concurrency: 1, timeoutMs: 1000 } });
      const codes = await Promise.all(Array.from({ length: 16 }, (_, p) => run([STORE_WRITER, storeDir, id, `w${p}-`, "25"])));
      assert.deepEqual(new Set(codes), new Set([0]));
      const states = store.hostStates(id);
      assert.equal(Object.keys(states).length, 400);
      for (const host of hosts) {
        const s = states[host];
        assert.ok(s?.minionJobId && s.result?.outcome === "ok", `${host}: ${JSON.stringify(s)}`);
      }
    } finally {
      await store.close();
    }
  });
});
