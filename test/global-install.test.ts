// The install an operator does: `npm pack --workspaces`, `npm install -g` of the tarballs (and of the checkout)
// into a temporary prefix; every bin any package.json declares is on PATH and answers --help and --version
// from `/`, the install prints no warnings, and an unsupported Node stops with one line.

import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FUNC_VERSION } from "@func/shared";
import { MIN_NODE } from "@func/shared/launch";
import { REPO } from "./helpers/fleet.js";
import { WORKSPACES, installGlobal, offline, packWorkspaces, packageJson, prefixEnv, run, workspaceBins } from "./helpers/install.js";

/** Makes the shim see an old Node: process.versions is replaced before the shim runs. */
const OLD_NODE = 'data:text/javascript,Object.defineProperty(process, "versions", { value: { ...process.versions, node: "18.19.1" } })';

describe("global install (npm pack --workspaces, npm install -g)", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), "func-install-"));
  const home = join(dir, "home");
  const bins = Object.keys(workspaceBins());
  let skipped = "";

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("every package declares the same version, license and engines; the root lists every bin", () => {
    const root = packageJson(".");
    assert.equal(root.engines?.node, `>=${MIN_NODE.replace(/\.0$/, "")}`);
    for (const ws of WORKSPACES) {
      const pkg = packageJson(ws);
      assert.equal(pkg.version, FUNC_VERSION, ws);
      assert.equal(pkg.engines?.node, root.engines?.node, `${ws}: engines`);
    }
    // `npm install -g` of the checkout links the root's bins: they are exactly the packages' bins
    assert.deepEqual(root.bin, workspaceBins());
    assert.ok(bins.includes("func") && bins.includes("funcd") && bins.includes("func-ca") && bins.includes("func-fleet"), bins.join(" "));
  });

  for (const from of ["tarballs", "checkout"] as const) {
    describe(`from the ${from}`, () => {
      const prefix = join(dir, `prefix-${from}`);

      before(async function () {
        const specs = from === "tarballs" ? await packWorkspaces(join(dir, "packs")) : [REPO];
        const r = await installGlobal(prefix, specs);
        if (offline(r)) {
          skipped = `npm cannot reach the registry from here and its cache lacks a dependency: ${r.stderr.trim().split("\n")[0]}`;
          console.log(`      skipped: ${skipped}`);
          this.skip();
        }
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout + r.stderr, /warn/i, "the install printed a warning");
      });

      for (const bin of bins) {
        it(`${bin} --version and --help work from /, and run the installed copy`, async () => {
          const exe = join(prefix, "bin", bin);
          if (from === "tarballs") assert.ok(realpathSync(exe).startsWith(realpathSync(prefix)), `${exe} -> ${realpathSync(exe)}`);
          const env = prefixEnv(prefix, { FUNC_HOME: home });
          const v = await run(bin, ["--version"], { cwd: "/", env });
          assert.equal(v.code, 0, v.stderr);
          assert.equal(v.stdout, `${bin} ${FUNC_VERSION}\n`);
          const h = await run(bin, ["--help"], { cwd: "/", env });
          assert.equal(h.code, 0, h.stderr);
          assert.match(h.stdout, new RegExp(`\\b${bin}\\b`));
          assert.equal(h.stderr, "");
        });
      }

      it("an unsupported Node stops every command with one line", async () => {
        for (const bin of bins) {
          const r = await run(process.execPath, ["--import", OLD_NODE, join(prefix, "bin", bin), "--help"], { cwd: "/", env: prefixEnv(prefix, { FUNC_HOME: home }) });
          assert.equal(r.code, 1, `${bin}: ${r.stderr}`);
          assert.equal(r.stdout, "");
          assert.equal(r.stderr, `${bin}: needs Node.js >= ${MIN_NODE}, this is 18.19.1 (${process.execPath}): install a newer Node.js\n`);
        }
      });
    });
  }
});
