// funcd runs with FUNCD_NODE_FLAGS (a bounded V8 young generation, so its RSS does not swing with load):
// through the shebang of the installed command and of the compiled one, and when func-fleet starts it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FUNCD_NODE_FLAGS } from "@func/shared";
import { FUNCD_BIN, REPO, startFleet } from "./helpers/fleet.js";

describe("funcd's Node flags", function () {
  this.timeout(60_000);

  it("are in the shebang of the installed funcd and of the compiled one", () => {
    for (const file of [join(REPO, "packages/minion/bin/funcd.js"), FUNCD_BIN]) {
      const first = readFileSync(file, "utf8").split("\n")[0];
      assert.equal(first, `#!/usr/bin/env -S node ${FUNCD_NODE_FLAGS.join(" ")}`, file);
    }
  });

  it("are on the command line of every funcd func-fleet starts", async () => {
    const fleet = await startFleet("flags", 16, 2, { perProcess: 1 });
    try {
      for (const m of fleet.minions) {
        const args = readFileSync(`/proc/${m.pid}/cmdline`, "utf8").split("\0");
        for (const flag of FUNCD_NODE_FLAGS) assert.ok(args.includes(flag), `${m.name}: ${args.join(" ")}`);
      }
    } finally {
      await fleet.stop();
    }
  });
});
