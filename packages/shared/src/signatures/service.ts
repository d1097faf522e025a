// Signatures of the `service` module: start, stop and inspect system services (systemd or init.d).

import { INVENTORY_METHOD } from "./common.js";
import { defineModule, param, t, type MethodSignature } from "./schema.js";

/** A unit or init.d script name: letters, digits, @ . _ : - and not an option. */
export const UNIT_NAME = t.string({ pattern: "[A-Za-z0-9@._:][A-Za-z0-9@._:-]{0,199}" });

function verb(v: string) {
  return {
    doc: `${v[0]!.toUpperCase()}${v.slice(1)}s a service; returns {rc, stdout, stderr}.`,
    example: `func "web*" call service ${v} nginx`,
    params: [param("name", UNIT_NAME)],
  } as const satisfies MethodSignature;
}

export const SERVICE = defineModule({
  name: "service",
  description: "Start, stop and inspect system services (systemd or init.d)",
  methods: {
    start: verb("start"),
    stop: verb("stop"),
    restart: verb("restart"),
    reload: verb("reload"),
    status: { doc: "Is the service running? {running, rc, output}.", example: 'func "web*" call service status nginx', params: [param("name", UNIT_NAME)] },
    get_running: { doc: "Names of running services (systemd only).", example: 'func "*" call service get_running', params: [] },
    enabled: {
      doc: "Does the service start at boot? (systemctl is-enabled, else an S link in /etc/rc[2-5].d)",
      example: 'func "web*" call service enabled nginx',
      params: [param("name", UNIT_NAME)],
    },
    get_enabled: { doc: "Names of services started at boot.", example: 'func "*" call service get_enabled', params: [] },
    inventory: INVENTORY_METHOD("service", "services enabled at boot and running now"),
  },
});
