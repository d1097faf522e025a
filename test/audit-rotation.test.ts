// The minion's audit log is bounded: past audit_log_max_bytes it rotates (audit.log -> .1 -> ... -> .keep,
// the oldest dropped), no line is split or lost between the files kept, and reopen() follows an outside move.

import assert from "node:assert/strict";
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { AuditLog } from "@func/minion";
import { DEFAULTS } from "@func/shared";
import { tempHome } from "./helpers/fleet.js";

describe("audit log rotation", () => {
  const dir = tempHome("audit");
  const file = join(dir, "log", "audit.log");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults bound it (64 MiB, 5 kept)", () => {
    assert.equal(DEFAULTS.minion.auditLogMaxBytes, 64 * 1024 * 1024);
    assert.equal(DEFAULTS.minion.auditLogKeep, 5);
  });

  it("rotates by size, keeps `keep` files, and the newest lines are all there in order", async () => {
    const log = new AuditLog(file, { maxBytes: 2000, keep: 2 });
    for (let i = 0; i < 200; i++) log.write({ cn: "overlord@x", addr: "127.0.0.1", method: `test.echo`, outcome: "ok", ms: i, detail: `n${i}` });
    await log.close();
    assert.ok(existsSync(file) && existsSync(`${file}.1`) && existsSync(`${file}.2`));
    assert.ok(!existsSync(`${file}.3`), "no more than keep rotated files");
    for (const f of [file, `${file}.1`, `${file}.2`]) {
      assert.ok(statSync(f).size <= 2000, `${f} is within the bound`);
      assert.equal((statSync(f).mode & 0o777), 0o600, `${f} is 0600`);
    }
    const lines = [`${file}.2`, `${file}.1`, file].flatMap((f) => readFileSync(f, "utf8").trim().split("\n"));
    const numbers = lines.map((l) => Number((JSON.parse(l) as { detail: string }).detail.slice(1)));
    assert.equal(numbers.at(-1), 199);
    numbers.forEach((n, k) => k > 0 && assert.equal(n, numbers[k - 1]! + 1, "consecutive, none lost or split"));
  });

  it("reopen() writes to the path again after an outside rotation moved the file", async () => {
    const log = new AuditLog(file, { maxBytes: 0, keep: 0 });
    renameSync(file, `${file}.outside`);
    log.reopen();
    log.write({ cn: "c", addr: "a", method: "test.ping", outcome: "ok", ms: 1 });
    await log.close();
    assert.match(readFileSync(file, "utf8"), /test\.ping/);
  });
});
