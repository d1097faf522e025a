#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func-web.
import { launch } from "@func/shared/launch";

await launch("func-web", new URL("../dist/bin/func-web.js", import.meta.url));
