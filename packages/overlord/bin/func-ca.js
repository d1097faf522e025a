#!/usr/bin/env node
// Installed entry point (npm links this file, which exists before the build): checks Node, then runs the
// compiled func-ca.
import { launch } from "@func/shared/launch";

await launch("func-ca", new URL("../dist/bin/func-ca.js", import.meta.url));
