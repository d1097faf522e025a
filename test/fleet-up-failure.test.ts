// `func-fleet up` that fails part-way (here: one minion's address is taken) stops the funcd processes it had
// started, so they do not hold their addresses and make the next `up` fail too.

import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { fleetDown, fleetUp, readFleet } from "@func/overlord/fleet";
import { alive } from "./campaign/observe.js";
import { tempHome } from "./helpers/fleet.js";

const PORT = 51234;

describe("func-fleet up that fails", function () {
  this.timeout(90_000);
  let home: string;
  let squatter: Server;
  const held = new Set<Socket>();
  before(async () => {
    home = tempHome("fleet-fail");
    // holds the address and never answers: the fleet's readiness pings that reach it hang until they time out
    squatter = createServer((socket) => {
      held.add(socket);
      socket.on("close", () => held.delete(socket));
    });
    await new Promise<void>((r) => squatter.listen(PORT, "127.17.0.3", r));
  });
  after(async () => {
    await fleetDown(home, { graceMs: 1000 });
    for (const socket of held) socket.destroy();
    await new Promise((r) => squatter?.close(r));
    rmSync(home, { recursive: true, force: true });
  });

  it("rejects, and leaves none of its funcd processes running", async () => {
    await assert.rejects(fleetUp(home, { count: 3, baseAddress: "127.17.0.2", port: PORT, perProcess: 1, readyTimeoutMs: 30_000 }), (err: Error) => {
      assert.match(err.message, /exited|did not answer/);
      return true;
    });
    const state = readFleet(home);
    assert.ok(state && state.pids.length === 3, "it had started three funcd processes");
    const running = state.pids.filter(alive);
    assert.deepEqual(running, [], `still running: ${running.join(", ")}`);
  });
});
