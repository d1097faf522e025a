// Signatures of the `packages` module: installed packages through dpkg-query or rpm.

import { INVENTORY_METHOD } from "./common.js";
import { defineModule, param, t } from "./schema.js";

/** A package name (Debian's and RPM's rules, loosely): no leading "-", no shell characters. */
export const PACKAGE_NAME = t.string({ pattern: "[A-Za-z0-9_+][A-Za-z0-9_.+~:-]{0,200}" });

export const PACKAGES = defineModule({
  name: "packages",
  description: "Installed packages (dpkg-query or rpm, whichever the host has)",
  methods: {
    list: { doc: "Every installed package: {name: version}.", example: 'func "*" call packages list', params: [] },
    info: {
      doc: "{name, version, arch, summary} of an installed package; fault 1 when it is not installed.",
      example: 'func "*" call packages info openssl',
      params: [param("name", PACKAGE_NAME)],
    },
    installed: { doc: "True when the package is installed.", example: 'func "*" call packages installed openssl', params: [param("name", PACKAGE_NAME)] },
    inventory: INVENTORY_METHOD("packages", "every installed package and its version"),
  },
});
