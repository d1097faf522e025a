// One stopped minion does not hold up the others: copyfile and getfile with three real minions, one of them
// SIGSTOPped mid-transfer. The other two finish (their commits are in their audit logs, their pulled files
// land) while it is still stopped; continued, it finishes too. A local file that shrinks mid-push aborts
// every upload that began; minions taking different chunk sizes share one push. Outcomes, never timings.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Overlord, pullFile, pushFile, type TransferProgress } from "@func/overlord";
import { encodeCallBytes, homePaths, type HostResult } from "@func/shared";
import { func, startFleet, type TestFleet } from "./helpers/fleet.js";

/** Several chunks per host (a minion takes ~3 MiB per chunk by default). */
const SIZE = 24 * 1024 * 1024;

async function until(what: string, cond: () => boolean, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("file transfer: a stopped host does not stall the others", function () {
  this.timeout(600_000);
  let fleet: TestFleet;
  let base: string;
  let local: string;
  let sha: string;
  let stopped: number | undefined;

  const auditOf = (name: string) => {
    const m = fleet.minions.find((x) => x.name === name)!;
    const file = homePaths(m.home).auditLog;
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  };
  const committed = (name: string) => auditOf(name).split("\n").some((l) => l.includes('"method":"file.upload_commit"') && l.includes('"outcome":"ok"'));

  before(async () => {
    base = join(tmpdir(), `func-xfer-slow-${process.pid}`);
    mkdirSync(join(base, "root"), { recursive: true });
    local = join(base, "data.bin");
    const bytes = randomBytes(SIZE);
    writeFileSync(local, bytes);
    sha = createHash("sha256").update(bytes).digest("hex");
    fleet = await startFleet("xfer-slow", 130, 3, { minionConf: { file_roots: join(base, "root") } });
  });
  after(async () => {
    if (stopped) process.kill(stopped, "SIGCONT");
    await fleet?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  /** Runs `transfer`, SIGSTOPs the last minion once bytes move, waits for `othersDone`, then continues it. */
  async function withOneStopped(
    transfer: (onProgress: (p: TransferProgress) => void) => Promise<Record<string, HostResult>>,
    othersDone: (names: string[]) => boolean,
    done: (name: string) => boolean,
  ): Promise<{ results: Record<string, HostResult>; slow: string; fast: string[] }> {
    const slow = fleet.minions[2]!;
    const fast = fleet.minions.slice(0, 2).map((m) => m.name);
    let fired = false;
    const running = transfer((p) => {
      if (!fired && p.moved > 0) {
        fired = true;
        stopped = slow.pid;
        process.kill(slow.pid, "SIGSTOP");
      }
    });
    let failed: unknown = null;
    running.catch((err: unknown) => (failed = err));
    await until("the transfer to start", () => fired || failed !== null);
    // the two others finish while the third cannot answer at all
    await until("the two running hosts to finish", () => othersDone(fast) || failed !== null);
    assert.equal(failed, null);
    assert.equal(done(slow.name), false, "the stopped minion cannot have finished");
    process.kill(slow.pid, "SIGCONT");
    stopped = undefined;
    return { results: await running, slow: slow.name, fast };
  }

  it("copyfile: the two running minions commit while the third is stopped; continued, it commits too", async () => {
    const target = join(base, "root", "pushed.bin");
    const overlord = new Overlord("*", { home: fleet.home, timeout: 300 });
    try {
      const { results, slow, fast } = await withOneStopped(
        (onProgress) => pushFile(overlord, local, target, { onProgress }),
        (names) => names.every(committed),
        committed,
      );
      for (const [name, r] of Object.entries(results)) {
        assert.equal(r.outcome, "ok", `${name}: ${JSON.stringify(r)}`);
        assert.match(JSON.stringify(r), new RegExp(`"sha256":"${sha}"`));
      }
      assert.deepEqual(Object.keys(results).sort(), [...fast, slow].sort());
      assert.equal(createHash("sha256").update(readFileSync(target)).digest("hex"), sha);
    } finally {
      await overlord.close();
    }
  });

  it("getfile: the two running minions' files land while the third is stopped; continued, its file lands too", async () => {
    const remote = join(base, "root", "served.bin");
    writeFileSync(remote, readFileSync(local));
    const into = join(base, "pulled");
    const overlord = new Overlord("*", { home: fleet.home, timeout: 300 });
    try {
      const { results, slow } = await withOneStopped(
        (onProgress) => pullFile(overlord, remote, into, { onProgress }),
        (names) => names.every((n) => existsSync(join(into, n, "served.bin"))),
        (n) => existsSync(join(into, n, "served.bin")),
      );
      for (const [name, r] of Object.entries(results)) {
        assert.equal(r.outcome, "ok", `${name}: ${JSON.stringify(r)}`);
        assert.equal(createHash("sha256").update(readFileSync(join(into, name, "served.bin"))).digest("hex"), sha);
      }
      assert.ok(existsSync(join(into, slow, "served.bin")));
    } finally {
      await overlord.close();
    }
  });

  it("copyfile of a file that shrinks mid-push: one error, and every host that began is aborted at once", async () => {
    const shrinking = join(base, "shrinking.bin");
    writeFileSync(shrinking, randomBytes(2 * SIZE));
    const target = join(base, "root", "shrunk.bin");
    const temps = () => readdirSync(join(base, "root")).filter((f) => f.startsWith(".shrunk.bin."));
    const aborted = (name: string) => auditOf(name).split("\n").some((l) => l.includes('"method":"file.upload_abort"') && l.includes('"outcome":"ok"'));
    const overlord = new Overlord("*", { home: fleet.home, timeout: 300 });
    let fired = false;
    try {
      // once the first chunk is in, the file shrinks (in the same tick): the chunks not read yet cannot be
      const push = pushFile(overlord, shrinking, target, {
        onProgress: (p) => {
          if (fired || p.moved === 0) return;
          fired = true;
          truncateSync(shrinking, 1024 * 1024);
        },
      });
      await assert.rejects(push, /shrank while it was being sent/);
      assert.ok(fired, "the push moved bytes before it failed");
      // aborted before pushFile answered, not left to upload_expiry (600 s)
      assert.deepEqual(temps(), []);
      assert.equal(existsSync(target), false);
      for (const m of fleet.minions) assert.ok(aborted(m.name), `${m.name} got no upload_abort`);
    } finally {
      await overlord.close();
    }
  });

  it("minions that take different chunk sizes: one push, one memory budget, every host committed", async () => {
    const small = fleet.minions[2]!;
    const conf = homePaths(small.home).minionConf;
    const before = readFileSync(conf, "utf8");
    // 1 MiB bodies (~0.75 MiB chunks) on the third minion, re-read on SIGHUP; the others keep ~3 MiB
    writeFileSync(conf, before.replace(/^\[main\]$/m, "[main]\nmax_body_bytes = 1048576"));
    const overlord = new Overlord("*", { home: fleet.home, timeout: 300 });
    try {
      process.kill(small.pid, "SIGHUP");
      const [address] = overlord.addresses([small.name]);
      const big = encodeCallBytes("test.ping", ["x".repeat(2 * 1024 * 1024)]);
      for (let end = Date.now() + 30_000; ; ) {
        const r = await overlord.send(address!, big);
        if (r.outcome !== "ok" && /413/.test(r.error.message)) break;
        if (Date.now() > end) assert.fail(`max_body_bytes was not reloaded: ${JSON.stringify(r)}`);
        await sleep(100);
      }
      const target = join(base, "root", "mixed.bin");
      const results = await pushFile(overlord, local, target);
      for (const [name, r] of Object.entries(results)) {
        assert.equal(r.outcome, "ok", `${name}: ${JSON.stringify(r)}`);
        assert.match(JSON.stringify(r), new RegExp(`"sha256":"${sha}"`));
      }
      assert.equal(Object.keys(results).length, 3);
    } finally {
      writeFileSync(conf, before);
      process.kill(small.pid, "SIGHUP");
      await overlord.close();
    }
  });

  it("progress goes to stderr, results to stdout", async () => {
    const r = await func(fleet.home, ["*", "copyfile", local, join(base, "root", "again.bin"), "--progress"], 240_000);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /copyfile: [\d.]+\/[\d.]+ MiB \(\d+%\), \d host\(s\) going, [\d.]+ MiB\/s/);
    assert.doesNotMatch(r.stdout, /MiB/);
    assert.match(r.stderr, /3 hosts: 3 ok/);
    assert.equal(r.stdout.trim().split("\n").length, 3);
  });
});
