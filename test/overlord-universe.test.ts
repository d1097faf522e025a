// What a long-lived Overlord targets follows the CA's certs/ directory and the groups file as they change
// (it keeps what it read only while neither does), and group members that are plain names match exactly.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Overlord } from "@func/overlord";
import { homePaths, minionAddressFile, resolveTargets, signedCertFile, type HomePaths } from "@func/shared";

/** Writes as func-ca does: a temp file renamed into place. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function enroll(paths: HomePaths, name: string, address: string): void {
  writeAtomic(signedCertFile(paths, name), "cert");
  writeAtomic(minionAddressFile(paths, name), JSON.stringify({ address, port: 51234 }));
}

/** Backdates certs/ and groups, as if they last changed an hour ago (their times are then trusted). */
function settle(paths: HomePaths): void {
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(paths.signedDir, hourAgo, hourAgo);
  utimesSync(paths.groupsFile, hourAgo, hourAgo);
}

describe("Overlord targets follow certs/ and groups", () => {
  let dir: string;
  let paths: HomePaths;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "func-universe-"));
    paths = homePaths(dir);
    mkdirSync(paths.signedDir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("sees minions enrolled or revoked and groups edited after it was made", () => {
    enroll(paths, "web1", "127.0.0.2");
    enroll(paths, "web2", "127.0.0.3");
    writeAtomic(paths.groupsFile, "[g]\nhosts = web1\n");
    settle(paths);
    const o = new Overlord("@g", { home: dir });
    assert.deepEqual(o.hosts(), ["web1"]);
    assert.deepEqual(o.hosts(), ["web1"], "unchanged: the same answer from what was kept");
    writeAtomic(paths.groupsFile, "[g]\nhosts = web*\n");
    assert.deepEqual(o.hosts(), ["web1", "web2"]);
    settle(paths);
    enroll(paths, "web3", "127.0.0.4");
    assert.deepEqual(o.hosts(), ["web1", "web2", "web3"]);
    settle(paths);
    rmSync(signedCertFile(paths, "web2"));
    assert.deepEqual(o.hosts(), ["web1", "web3"]);
  });

  it("dials the address recorded at the latest enrollment", () => {
    enroll(paths, "web1", "127.0.0.2");
    writeAtomic(paths.groupsFile, "");
    settle(paths);
    const o = new Overlord("web1", { home: dir });
    assert.equal(o.addresses()[0]!.host, "127.0.0.2");
    enroll(paths, "web1", "127.0.0.9");
    assert.equal(o.addresses()[0]!.host, "127.0.0.9");
  });

  it("group members that are plain names match exactly and case-insensitively; globs still match", () => {
    const names = ["db1", "db2", "web1", "web10", "x"];
    const groups = { g: ["WEB1", "db*"] };
    assert.deepEqual(resolveTargets("@g", { names, groups }), ["db1", "db2", "web1"]);
    assert.deepEqual(resolveTargets("@g:web*", { names, groups }), ["web1"]);
  });
});
