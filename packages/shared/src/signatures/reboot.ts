// Signatures of the `reboot` module: a reboot that must be asked for in so many words.

import { defineModule, param, t } from "./schema.js";

/** The literal `reboot.now` must be given: a stray call (a typo, a replayed test) reboots nothing. */
export const REBOOT_CONFIRM = "yes-reboot-now";

export const REBOOT = defineModule({
  name: "reboot",
  description: "Reboot the host (minion.conf reboot_command), confirmed",
  methods: {
    now: {
      doc: `Runs reboot_command after reboot_delay seconds (the call answers first) when confirm is "${REBOOT_CONFIRM}"; returns {scheduled, delay, command}.`,
      example: `func "web1" call reboot now ${REBOOT_CONFIRM}`,
      params: [param("confirm", t.string({ max_length: 100 }), `the literal "${REBOOT_CONFIRM}"`)],
      async_allowed: false,
    },
  },
});
