// Signatures of the `hardware` module: the host's OS, kernel, CPUs and memory.

import { INVENTORY_METHOD } from "./common.js";
import { defineModule } from "./schema.js";

export const HARDWARE = defineModule({
  name: "hardware",
  description: "Host facts: OS, kernel, CPUs, memory",
  methods: {
    info: {
      doc: "OS, kernel, architecture, CPU model and count, memory (bytes), uptime (s), load averages.",
      example: 'func "*" call hardware info',
      params: [],
    },
    inventory: INVENTORY_METHOD("hardware", "OS, kernel, architecture, CPU model and count, total memory"),
  },
});
