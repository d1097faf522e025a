// Hostile answers (issue 10 items 4 and 12): fake minions with func-signed certs answer the overlord with
// garbage of every kind (test/helpers/hostile-minion.ts) beside the campaign's real minions. Through the
// real CLI, in-process and forked: every real minion's result is there, each fake one is one `error` line,
// and the human output carries no raw control character.

import { appendFileSync, readFileSync } from "node:fs";
import { FAULT, homePaths, type HostResult } from "@func/shared";
import type { CampaignFleet } from "./campaign-fleet.js";
import { secs, tally, type Row } from "./case.js";
import { func } from "../helpers/fleet.js";
import { ESCAPE_ANSWER, HOSTILE_ANSWERS, HUGE_ANSWER_BYTES, startHostileMinions } from "../helpers/hostile-minion.js";

export interface AnswerCase {
  name: string;
  forks: number;
}

export const ANSWER_CASES: readonly AnswerCase[] = [
  { name: "hostile answers from fake minions (one bucket)", forks: 1 },
  { name: "hostile answers from fake minions (forked buckets)", forks: 3 },
];

/** The fake minions' address: in the fleet's own /24, a host no real minion uses. */
function fakeAddress(fleet: CampaignFleet): string {
  return fleet.target(0).address.replace(/\.\d+$/, ".251");
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** The overlord's response cap for these cases: under the fake minions' huge answers. */
const RESPONSE_CAP = Math.floor(HUGE_ANSWER_BYTES / 3);

export async function runAnswerCase(c: AnswerCase, fleet: CampaignFleet): Promise<Row> {
  const problems: string[] = [];
  const conf = homePaths(fleet.home).overlordConf;
  if (!readFileSync(conf, "utf8").includes("max_response_bytes")) appendFileSync(conf, `max_response_bytes = ${RESPONSE_CAP}\n`);
  const started = performance.now();
  const fakes = await startHostileMinions(fleet.home, fakeAddress(fleet), { ...HOSTILE_ANSWERS, escapes: ESCAPE_ANSWER }, { prefix: "fake-" });
  let outcome = "crashed";
  try {
    const json = await func(fleet.home, ["*", "call", "test", "ping", "--json", "--forks", String(c.forks)]);
    let hosts: Record<string, HostResult> = {};
    try {
      hosts = (JSON.parse(json.stdout) as { hosts: Record<string, HostResult> }).hosts;
    } catch {
      problems.push(`exit ${json.code}, no JSON document: ${json.stderr.trim().split("\n")[0]?.slice(0, 200)}`);
    }
    for (const m of fleet.minions) if (hosts[m.name]?.outcome !== "ok") problems.push(`${m.name}: ${JSON.stringify(hosts[m.name] ?? "missing").slice(0, 160)}`);
    for (const name of fakes.names) {
      const r = hosts[name];
      const want = name === "fake-escapes" ? "ok" : "error";
      if (!r) problems.push(`${name} is missing`);
      else if (r.outcome !== want) problems.push(`${name}: ${r.outcome}, expected ${want}`);
      else if ("error" in r && /[\r\n]/.test(r.error.message)) problems.push(`${name}: the reason is not one line`);
    }
    const human = await func(fleet.home, ["*", "call", "test", "ping", "--forks", String(c.forks)]);
    if (RAW_CONTROL.test(human.stdout)) problems.push("a raw control character reached the human output");
    if (/internal error|TypeError/.test(json.stderr + human.stderr)) problems.push("the CLI reported an internal error");
    const outcomes = Object.values(hosts).map((r) => r.outcome);
    outcome = `${tally(outcomes)} (exit ${json.code}; ${fakes.names.length} fake minions) in ${secs(performance.now() - started)}`;
    if (json.code !== 2) problems.push(`exit ${json.code}, expected 2 (some error; fault code ${FAULT.NOT_XMLRPC} and the rest stay per host)`);
  } finally {
    await fakes.close();
  }
  const up = await fleet.checkAfterCase(problems);
  return { group: "hostile", name: c.name, tries: 2, outcome, up, rssBeforeKib: null, rssAfterKib: null, rssPeakKib: null, held: problems.length === 0, problems };
}
