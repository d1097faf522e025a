#!/usr/bin/env node
// The async job runner process: funcd spawns one per `async.` call, detached, with
// `<job id> <config dir> <state dir>`. The job id on the command line is how funcd tells it from a reused pid.

import { homePaths, isJobId } from "@func/shared/core";
import { runJob } from "../jobs/job-runner.js";

const [id, configDir, stateDir] = process.argv.slice(2);
const log = (message: string) => process.stderr.write(`${new Date().toISOString()} job-runner[${process.pid}]: ${message}\n`);

if (!isJobId(id) || !configDir || !stateDir) {
  log("usage: job-runner <job id> <config dir> <state dir>");
  process.exit(1);
}
runJob(id, homePaths(configDir, stateDir), log).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`job ${id}: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
