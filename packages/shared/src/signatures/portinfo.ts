// Signatures of the `portinfo` module: listening sockets.

import { defineModule } from "./schema.js";

export const PORTINFO = defineModule({
  name: "portinfo",
  description: "Listening sockets and the processes that hold them (/proc/net)",
  methods: {
    listen_ports: {
      doc: "Listening TCP and bound UDP sockets: [{address, port, protocol, pid, command}] (pid 0 and command \"\" when not visible).",
      example: 'func "*" call portinfo listen_ports',
      params: [],
    },
  },
});
