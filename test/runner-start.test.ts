// The async job runner is one Node process per `async.` call: what it loads is paid on every job. It must not
// load the XML-RPC codec (xmlrpc, sax, xmlbuilder: CommonJS, so visible in require.cache) that it never uses;
// the control shows the check sees them when the package's main entry is loaded.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "./helpers/fleet.js";

function dependenciesLoadedBy(module: string): string[] {
  const script = `
    import { createRequire } from "node:module";
    await import(${JSON.stringify(pathToFileURL(join(REPO, module)).href)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("node_modules"));
    process.stdout.write(JSON.stringify(loaded));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

describe("async job runner start-up", () => {
  it("loads every module a job may call, and no XML-RPC codec", () => {
    assert.deepEqual(dependenciesLoadedBy("packages/minion/dist/jobs/job-runner.js"), []);
  });
  it("control: the full @func/shared entry loads the codec's CommonJS modules", () => {
    const loaded = dependenciesLoadedBy("packages/shared/dist/index.js");
    assert.ok(loaded.some((k) => k.includes("/xmlrpc/")), loaded.join("\n"));
  });
});
