// Lock-out cases (issue 10 items 8 and 9) against a running funcd: a cert with no rights stalling large
// bodies, and a stranger with no cert holding idle TCP sockets from one address. Either way the overlord
// must still be served at once, and the attacker's sockets must not outlive the deadlines.

import { connect as netConnect, type Socket } from "node:net";
import { encodeCall, FAULT } from "@func/shared";
import { CAMPAIGN_HANDSHAKE_TIMEOUT_MS, CAMPAIGN_MAX_CONNECTIONS } from "./campaign-fleet.js";
import { replyLabel, secs, tally } from "./case.js";
import { rawCall, tlsConnect } from "./probe.js";
import type { HostileCase, HostileEnv } from "./hostile-cases.js";

const MIB = 1024 * 1024;
/** Slack on top of a deadline before a socket that outlives it counts as a failure (a loaded machine), ms. */
const DEADLINE_SLACK_MS = 8000;

/** The overlord's call while the attack goes on: it must be served. */
async function overlordServed(env: HostileEnv, problems: string[]): Promise<string> {
  const r = await rawCall(env.fleet.target(0), env.fleet.overlord, { body: encodeCall("test.ping", []) });
  if (!(r.kind === "ok" && r.value === 1)) problems.push(`the overlord got ${replyLabel(r)} during the attack`);
  return replyLabel(r);
}

/** A source address in the minion's own /24 that no minion uses, for the stranger. */
function strangerAddress(env: HostileEnv): string {
  return env.fleet.target(0).address.replace(/\.\d+$/, ".250");
}

async function until(check: () => boolean, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
}

export const LOCKOUT_CASES: readonly HostileCase[] = [
  {
    name: "a cert with no rights stalls 4 MiB bodies (no share of the byte budget)",
    run: async (env) => {
      const count = env.quick ? 4 : 12;
      const problems: string[] = [];
      const answers: Promise<string>[] = [];
      const sockets: Socket[] = [];
      for (let i = 0; i < count; i++) {
        const s = await tlsConnect(env.fleet.target(0), env.fleet.minionIdentity(1));
        sockets.push(s);
        let got = "";
        s.on("data", (c: Buffer) => (got += c.toString("latin1")));
        s.on("error", () => {});
        answers.push(new Promise((resolve) => s.once("close", () => resolve(got))));
        s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${4 * MIB - 1024}\r\n\r\n<?xml version="1.0"?><methodCall>`);
      }
      const served = await overlordServed(env, problems);
      const got = await Promise.race([Promise.all(answers), new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      sockets.forEach((s) => s.destroy());
      const labels = (got ?? []).map((a) => (new RegExp(`<int>${FAULT.ACCESS_DENIED}</int>`).test(a) ? `fault ${FAULT.ACCESS_DENIED}` : a.slice(0, 12) || "closed"));
      if (got === null) problems.push("the stalled requests were still open after 20 s");
      else if (labels.some((l) => l !== `fault ${FAULT.ACCESS_DENIED}`)) problems.push(`stalled requests got ${tally(labels)}, expected fault 3`);
      return { tries: count + 1, outcome: `${tally(labels)}; the overlord meanwhile: ${served}`, problems, audited: count + 1 };
    },
  },
  {
    name: "a stranger's idle TCP sockets from one address (per-address cap, handshake deadline)",
    run: async (env) => {
      const count = CAMPAIGN_MAX_CONNECTIONS * 2;
      const problems: string[] = [];
      const from = strangerAddress(env);
      const sockets = await Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<Socket>((resolve) => {
              const s = netConnect({ host: env.fleet.target(0).address, port: env.fleet.target(0).port, localAddress: from });
              s.on("error", () => {});
              s.once("connect", () => resolve(s));
              s.once("close", () => resolve(s));
            }),
        ),
      );
      const started = performance.now();
      const open = () => sockets.filter((s) => !s.destroyed && s.readyState === "open").length;
      const served = await overlordServed(env, problems);
      const held = open();
      const cut = await until(() => open() === 0, CAMPAIGN_HANDSHAKE_TIMEOUT_MS + DEADLINE_SLACK_MS);
      const ms = performance.now() - started;
      sockets.forEach((s) => s.destroy());
      if (!cut) problems.push(`${open()} idle sockets still open after ${secs(ms)} (handshake_timeout_ms ${CAMPAIGN_HANDSHAKE_TIMEOUT_MS})`);
      return { tries: count + 1, outcome: `${count} sockets from ${from}, ${held} held past accept, all cut after ${secs(ms)}; the overlord meanwhile: ${served}`, problems, audited: 1 };
    },
  },
];
