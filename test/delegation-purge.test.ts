// A sub-overlord keeps each share's files (request, result lines, pid) in run/delegation/ until they are
// older than its job retention; then the next delegation.run removes them, and nothing newer.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { homePaths, shareFiles } from "@func/shared";
import { purgeOldShares } from "@func/minion";
import { tempHome } from "./helpers/fleet.js";

describe("delegation: old share files are purged", () => {
  let dir: string;
  before(() => (dir = tempHome("deleg-purge")));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("removes files last written before the retention period, keeps the rest", () => {
    const paths = homePaths(dir);
    const old = shareFiles(paths, "20260101T000000-0000000001");
    const fresh = shareFiles(paths, "20261201T000000-0000000002");
    mkdirSync(old.dir, { recursive: true });
    for (const f of [old.request, old.lines, old.pid, fresh.request, fresh.lines]) writeFileSync(f, "{}\n");
    const now = Date.now();
    const eightDaysAgo = (now - 8 * 86400 * 1000) / 1000;
    for (const f of [old.request, old.lines, old.pid]) utimesSync(f, eightDaysAgo, eightDaysAgo);
    assert.equal(purgeOldShares(paths, 7 * 86400, now), 3);
    assert.deepEqual([old.request, old.lines, old.pid].map(existsSync), [false, false, false]);
    assert.deepEqual([fresh.request, fresh.lines].map(existsSync), [true, true]);
    assert.equal(purgeOldShares(homePaths(`${dir}/none`), 1, now), 0);
  });
});
