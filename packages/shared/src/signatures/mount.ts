// Signatures of the `mount` module: mounted file systems.

import { INVENTORY_METHOD } from "./common.js";
import { defineModule } from "./schema.js";

export const MOUNT = defineModule({
  name: "mount",
  description: "Mounted file systems (/proc/self/mounts)",
  methods: {
    list: { doc: "Every mount: [{device, mount, fstype, options}].", example: 'func "*" call mount list', params: [] },
    inventory: INVENTORY_METHOD("mount", "every mount"),
  },
});
