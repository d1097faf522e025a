#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func.
import { launch } from "@func/shared/launch";

await launch("func", new URL("../dist/bin/func.js", import.meta.url));
