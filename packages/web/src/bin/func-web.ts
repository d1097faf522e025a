#!/usr/bin/env node
// The `func-web` entry point: the one error boundary that prints and picks the exit code (0 done, 1 not).

import { FuncError } from "@func/shared";
import { webMain } from "../cli/main.js";

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
};

webMain(process.argv.slice(2), process.env, io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    io.err(err instanceof FuncError ? `func-web: ${err.message}\n` : `func-web: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
