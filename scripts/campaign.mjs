// npm run campaign: hostile input, faults and a soak against real minions on loopback (issue 6). Prints
// what it tried and what happened as a table, and exits 0 only if every case held.
//
//   npm run campaign                         full form: a 10-minute soak against 20 minions
//   npm run campaign -- --quick              the short form npm test runs
//   npm run campaign -- --soak-minutes 2 --only soak

import { parseArgs } from "node:util";
import { campaignHeld, formatTable, runCampaign, stopFleets } from "../test/dist/campaign/campaign.js";

const HELP = `npm run campaign -- [--quick] [--soak-minutes N] [--soak-minions N] [--soak-rate N] [--only TEXT] [--subnet N]

  --quick            short form (fewer tries, 20 s soak against 5 minions)
  --soak-minutes N   measured soak length (default 10; --quick: 0.33)
  --soak-minions N   minions in the soak fleet (default 20; --quick: 5)
  --soak-rate N      operations per second, each to every minion (default 5)
  --only TEXT        run only the cases whose name contains TEXT
  --subnet N         first loopback subnet: fleets use 127.N.0.x .. 127.N+3.0.x (default 45)
`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "soak-minutes": { type: "string" },
    "soak-minions": { type: "string" },
    "soak-rate": { type: "string" },
    only: { type: "string" },
    subnet: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function num(name, fallback) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`campaign: --${name} must be a positive number\n`);
    process.exit(1);
  }
  return n;
}

// an interrupted campaign (Ctrl-C, a closed pipe) still stops the funcd processes it started
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    process.stderr.write(`campaign: ${signal}: stopping the fleets\n`);
    void stopFleets().finally(() => process.exit(130));
  });
}
process.stdout.on("error", () => {});

const quick = values.quick;
const opts = {
  quick,
  soakMinutes: num("soak-minutes", quick ? 1 / 3 : 10),
  soakMinions: num("soak-minions", quick ? 5 : 20),
  soakRate: num("soak-rate", 5),
  subnetBase: num("subnet", 45),
  ...(values.only ? { only: values.only } : {}),
  log: (line) => process.stderr.write(`campaign: ${line}\n`),
  onRow: (row) => process.stderr.write(`campaign:   ${row.notRun ? "NOT RUN" : row.held ? "held" : "BROKE"}: ${row.name}${row.problems.length ? ` (${row.problems[0]})` : ""}\n`),
};
const started = Date.now();
process.stdout.write(
  `func campaign: ${quick ? "quick" : "full"} form, soak ${opts.soakMinutes.toFixed(2)} min x ${opts.soakMinions} minions at ${opts.soakRate}/s, loopback 127.${opts.subnetBase}-${opts.subnetBase + 3}.0.x\n\n`,
);
try {
  const rows = await runCampaign(opts);
  process.stdout.write(formatTable(rows) + "\n\n");
  const held = campaignHeld(rows);
  const broke = rows.filter((r) => !r.held && !r.notRun).length;
  const notRun = rows.filter((r) => r.notRun).length;
  process.stdout.write(
    `${rows.length} cases: ${rows.length - broke - notRun} held, ${broke} broke, ${notRun} not run, in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  process.exitCode = held ? 0 : 1;
} catch (err) {
  process.stderr.write(`campaign: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
}
