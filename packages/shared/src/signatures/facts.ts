// Signatures of the `facts` module: what fact filters and `func <spec> show facts` read.

import { defineModule } from "./schema.js";

/** The keys facts.get answers, each a string or a number (filters compare them). */
export const FACT_KEYS = ["os", "os_version", "os_name", "kernel", "arch", "cpus", "memory", "hostname", "fqdn", "addresses", "virtualisation", "funcd_version"] as const;

export const FACTS = defineModule({
  name: "facts",
  description: "Host facts for filters: OS, kernel, CPUs, memory, names, addresses, virtualisation",
  methods: {
    get: {
      doc: `{${FACT_KEYS.join(", ")}} (memory in bytes, addresses comma-separated), cached for a few seconds.`,
      example: 'func "*" call facts get',
      params: [],
    },
  },
});
