// Signatures of the `sysctl` module: kernel parameters through /proc/sys.

import { INVENTORY_METHOD } from "./common.js";
import { defineModule, param, t } from "./schema.js";

/** A sysctl key: dot-separated names (net.ipv4.ip_forward); no "..", no "/". */
export const SYSCTL_KEY = t.string({ pattern: "[A-Za-z0-9_][A-Za-z0-9_@:+-]*(\\.[A-Za-z0-9_][A-Za-z0-9_@:+-]*)*", max_length: 255 });

export const SYSCTL = defineModule({
  name: "sysctl",
  description: "Kernel parameters (/proc/sys): list, get, set",
  methods: {
    list: { doc: "Every readable key and its value: {key: value} (values as the kernel prints them, trimmed).", example: 'func "*" call sysctl list', params: [] },
    get: { doc: "The value of one key.", example: 'func "*" call sysctl get net.ipv4.ip_forward', params: [param("key", SYSCTL_KEY)] },
    set: {
      doc: "Writes value to one key (through /proc/sys) and returns the value read back.",
      example: 'func "*" call sysctl set net.ipv4.ip_forward 1',
      params: [param("key", SYSCTL_KEY), param("value", t.string({ pattern: "[^\\u0000-\\u001f]*", max_length: 4096 }))],
    },
    inventory: INVENTORY_METHOD("sysctl", "every readable key and its value"),
  },
});
