#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func-inventory.
import { launch } from "@func/shared/launch";

await launch("func-inventory", new URL("../dist/bin/func-inventory.js", import.meta.url));
