#!/usr/bin/env node
// The `func-inventory` entry point: the one error boundary that prints and picks the exit code.

import { errorLine } from "@func/shared";
import { inventoryMain } from "../cli/inventory.js";

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
};

inventoryMain(process.argv.slice(2), process.env, io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    io.err(`func-inventory: ${errorLine(err)}\n`);
    process.exitCode = 1;
  },
);
