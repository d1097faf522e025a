// The whole registry: every module funcd serves is listed here, explicitly. No directory scanning.

import type { FuncModule } from "../registry.js";
import { commandModule } from "./command.js";
import { delegationModule } from "./delegation.js";
import { fileModule } from "./file.js";
import { jobsModule } from "./jobs.js";
import { serviceModule } from "./service.js";
import { diskModule } from "./disk.js";
import { factsModule } from "./facts.js";
import { filetrackerModule } from "./filetracker.js";
import { mountModule } from "./mount.js";
import { networkModule } from "./network.js";
import { packagesModule } from "./packages.js";
import { portinfoModule } from "./portinfo.js";
import { rebootModule } from "./reboot.js";
import { sysctlModule } from "./sysctl.js";
import { usersModule } from "./users.js";
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
  delegationModule,
  factsModule,
  sysctlModule,
  usersModule,
  filetrackerModule,
  mountModule,
  portinfoModule,
  networkModule,
  packagesModule,
  rebootModule,
];
