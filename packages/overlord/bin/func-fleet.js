#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func-fleet.
import { launch } from "@func/shared/launch";

await launch("func-fleet", new URL("../dist/bin/func-fleet.js", import.meta.url));
