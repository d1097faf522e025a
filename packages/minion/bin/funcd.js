#!/usr/bin/env -S node --max-semi-space-size=2
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled funcd. The shebang's Node flags are FUNCD_NODE_FLAGS (@func/shared home.ts; a test keeps them equal).
import { launch } from "@func/shared/launch";

await launch("funcd", new URL("../dist/bin/funcd.js", import.meta.url));
