// Signatures of the `network` module: interfaces, routes, and whether a TCP port answers.

import { HOST, INVENTORY_METHOD } from "./common.js";
import { defineModule, param, withDefault, t } from "./schema.js";

export const NETWORK = defineModule({
  name: "network",
  description: "Network interfaces, routes and reachability",
  methods: {
    interfaces: {
      doc: "Every interface: {name: {state, mtu, mac, addresses: [{address, family, netmask, cidr}]}}.",
      example: 'func "*" call network interfaces',
      params: [],
    },
    routes: {
      doc: "The routing table: [{destination, gateway, interface, metric, family}] (IPv4 and IPv6).",
      example: 'func "*" call network routes',
      params: [],
    },
    reachable: {
      doc: "Does host:port accept a TCP connection within timeout seconds? {reachable, ms, error}.",
      example: 'func "*" call network reachable db1 5432 3',
      params: [param("host", HOST), param("port", t.int({ min: 1, max: 65535 })), withDefault("timeout", t.number({ min: 0.01, max: 60 }), 5, "seconds")],
    },
    inventory: INVENTORY_METHOD("network", "interfaces and routes"),
  },
});
