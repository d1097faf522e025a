// The whole campaign (issue 6) as one function: bring up the fleets, run every hostile, fault and soak
// case, stop the fleets, return the rows. `npm run campaign` prints them; test/campaign.test.ts runs the
// same cases in a short form.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CampaignFleet } from "./campaign-fleet.js";

/** Stops whatever fleets are still running: for an interrupted campaign. */
export const stopFleets = (): Promise<void> => CampaignFleet.stopAll();
import { notRunRow, type Row } from "./case.js";
import { ASYNC_FAULT_CASES, asyncAvailable, runAsyncFaultCase } from "./async-cases.js";
import { asyncSoakOps } from "./async-soak.js";
import { FAULT_CASES, runFaultCase } from "./fault-cases.js";
import { HOSTILE_CASES, runHostileCase } from "./hostile-cases.js";
import { IDENTITY_CASES, runIdentityCase } from "./identity-cases.js";
import { ANSWER_CASES, runAnswerCase } from "./answer-cases.js";
import { runSoak, SHORT_SOAK_RSS_GROWTH_MAX, SOAK_RSS_GROWTH_MAX } from "./soak.js";

export interface CampaignOptions {
  /** short form: fewer tries, a short soak against a few minions */
  quick: boolean;
  /** soak length in minutes (measured part; warm-up comes on top) */
  soakMinutes: number;
  /** minions in the soak fleet */
  soakMinions: number;
  /** soak rate: operations per second, each to every minion */
  soakRate: number;
  /** first loopback subnet to use: hostile fleet on .base, faults on base+1, soak on base+2, async on base+3, identity on base+4 */
  subnetBase: number;
  /** run only cases whose name contains this */
  only?: string;
  /** progress lines (the script prints them on stderr) */
  log?: (line: string) => void;
  /** each row as soon as it is known */
  onRow?: (row: Row) => void;
}

/** Minions in the hostile-input fleet: the target plus one whose cert plays a caller with no ACL entry. */
const HOSTILE_MINIONS = 2;
/** Minions in the fault fleet: enough that a killed bucket leaves survivors, and one victim per fault. */
const FAULT_MINIONS = 4;
/** Minions in the async fault fleet: the one whose store is hurt, and one that stays well. */
const ASYNC_MINIONS = 2;

export async function runCampaign(opts: CampaignOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const log = opts.log ?? (() => {});
  const push = (row: Row) => {
    rows.push(row);
    opts.onRow?.(row);
  };
  const wanted = (name: string) => !opts.only || name.toLowerCase().includes(opts.only.toLowerCase());
  const fileRoot = mkdtempSync(join(tmpdir(), "func-campaign-root-"));
  try {
    if ([...HOSTILE_CASES, ...ANSWER_CASES].some((c) => wanted(c.name))) {
      log(`hostile input: starting ${HOSTILE_MINIONS} minions on 127.${opts.subnetBase}.0.x`);
      const fleet = await CampaignFleet.start("campaign-hostile", opts.subnetBase, HOSTILE_MINIONS, { fileRoot });
      try {
        for (const c of HOSTILE_CASES.filter((c) => wanted(c.name))) {
          log(`hostile: ${c.name}`);
          push(await runHostileCase(c, { fleet, quick: opts.quick }));
        }
        for (const c of ANSWER_CASES.filter((c) => wanted(c.name))) {
          log(`hostile: ${c.name}`);
          push(await runAnswerCase(c, fleet));
        }
      } finally {
        await fleet.stop();
      }
    }
    if (FAULT_CASES.some((c) => wanted(c.name))) {
      log(`faults: starting ${FAULT_MINIONS} minions on 127.${opts.subnetBase + 1}.0.x`);
      const fleet = await CampaignFleet.start("campaign-faults", opts.subnetBase + 1, FAULT_MINIONS, { fileRoot });
      try {
        for (const c of FAULT_CASES.filter((c) => wanted(c.name))) {
          log(`fault: ${c.name}`);
          push(await runFaultCase(c, { fleet, quick: opts.quick }));
        }
      } finally {
        await fleet.stop();
      }
    }
    const asyncCases = ASYNC_FAULT_CASES.filter((c) => wanted(c.name));
    if (asyncCases.length > 0) {
      if (!asyncAvailable()) {
        for (const c of asyncCases) push(notRunRow("fault", c.name, "async not on main yet"));
      } else {
        log(`async faults: starting ${ASYNC_MINIONS} minions on 127.${opts.subnetBase + 3}.0.x`);
        const fleet = await CampaignFleet.start("campaign-async", opts.subnetBase + 3, ASYNC_MINIONS, { fileRoot });
        try {
          for (const c of asyncCases) {
            log(`fault: ${c.name}`);
            push(await runAsyncFaultCase(c, { fleet, quick: opts.quick }));
          }
        } finally {
          await fleet.stop();
        }
      }
    }
    for (const c of IDENTITY_CASES.filter((c) => wanted(c.name))) {
      log(`identity: ${c.name} on 127.${opts.subnetBase + 4}.${c.block}.x`);
      push(await runIdentityCase(c, { subnet: opts.subnetBase + 4 }));
    }
    if (wanted("soak")) {
      log(`soak: starting ${opts.soakMinions} minions on 127.${opts.subnetBase + 2}.0.x`);
      const perProcess = opts.soakMinions > 5 ? 5 : 1;
      const fleet = await CampaignFleet.start("campaign-soak", opts.subnetBase + 2, opts.soakMinions, { fileRoot, perProcess });
      try {
        const durationMs = opts.soakMinutes * 60_000;
        push(
          await runSoak({
            fleet,
            durationMs,
            warmupMs: Math.min(60_000, Math.max(5000, durationMs / 5)),
            warmupMaxMs: Math.min(120_000, Math.max(20_000, (2 * durationMs) / 5)),
            rssGrowthMax: opts.quick ? SHORT_SOAK_RSS_GROWTH_MAX : SOAK_RSS_GROWTH_MAX,
            ratePerS: opts.soakRate,
            asyncOps: asyncAvailable() ? asyncSoakOps() : null,
            log,
          }),
        );
      } finally {
        await fleet.stop();
      }
    }
  } finally {
    rmSync(fileRoot, { recursive: true, force: true });
    rmSync(`${fileRoot}-outside`, { recursive: true, force: true });
  }
  return rows;
}

const MIB = 1024;

function mib(kib: number | null): string {
  return kib === null ? "-" : `${(kib / MIB).toFixed(0)}`;
}

/** The table `npm run campaign` prints: case, tries, outcome, minion still up, RSS before/after, held. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["case", "tries", "outcome", "up", "RSS MiB before/after", "held"];
  const body = rows.map((r) => [
    `${r.group}: ${r.name}`,
    String(r.tries),
    r.notRun ? `not run: ${r.notRun}` : r.outcome,
    r.up === null ? "-" : r.up ? "yes" : "NO",
    r.rssBeforeKib === null && r.rssAfterKib === null ? "-" : `${mib(r.rssBeforeKib)} / ${mib(r.rssAfterKib)}${r.rssPeakKib !== null ? ` (peak ${mib(r.rssPeakKib)})` : ""}`,
    r.notRun ? "NOT RUN" : r.held ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const [i, cells] of body.entries()) {
    out.push(line(cells));
    for (const p of rows[i]!.problems) out.push(`    ! ${p}`);
  }
  return out.join("\n");
}

/** Whether the campaign held: every case ran and held. */
export function campaignHeld(rows: readonly Row[]): boolean {
  return rows.length > 0 && rows.every((r) => r.held && !r.notRun);
}
