// The whole registry: every module funcd serves is listed here, explicitly. No directory scanning.

import type { FuncModule } from "../registry.js";
import { commandModule } from "./command.js";
import { fileModule } from "./file.js";
import { jobsModule } from "./jobs.js";
import { serviceModule } from "./service.js";
import { diskModule } from "./disk.js";
import { hardwareModule } from "./hardware.js";
import { processModule } from "./process.js";
import { systemModule } from "./system.js";
import { testModule } from "./test.js";

export const MODULES: readonly FuncModule[] = [
  testModule,
  commandModule,
  systemModule,
  fileModule,
  hardwareModule,
  diskModule,
  processModule,
  serviceModule,
  jobsModule,
];
