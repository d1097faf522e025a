#!/usr/bin/env node
// The `func-ca` entry point: the one error boundary that prints and picks the exit code (0 done, 1 not).

import { errorLine } from "@func/shared";
import { caMain } from "../cli/ca.js";

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
};

caMain(process.argv.slice(2), process.env, io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    io.err(`func-ca: ${errorLine(err)}\n`);
    process.exitCode = 1;
  },
);
