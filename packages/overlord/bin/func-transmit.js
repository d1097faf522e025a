#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func-transmit.
import { launch } from "@func/shared/launch";

await launch("func-transmit", new URL("../dist/bin/func-transmit.js", import.meta.url));
