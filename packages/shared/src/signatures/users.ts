// Signatures of the `users` module: accounts and groups, changed through the system's own tools.

import { ACCOUNT_NAME, INVENTORY_METHOD } from "./common.js";
import { defineModule, optional, param, t } from "./schema.js";

export const USERS = defineModule({
  name: "users",
  description: "Users and groups: list, inspect, add, delete, lock (useradd, usermod, userdel)",
  methods: {
    list: { doc: "Every user name (from the system's user database).", example: 'func "*" call users list', params: [] },
    info: {
      doc: "{name, uid, gid, gecos, home, shell, groups, locked} of one user.",
      example: 'func "*" call users info root',
      params: [param("name", ACCOUNT_NAME)],
    },
    exists: { doc: "True when the user exists.", example: 'func "*" call users exists deploy', params: [param("name", ACCOUNT_NAME)] },
    groups: { doc: "The names of the groups a user is in.", example: 'func "*" call users groups deploy', params: [param("name", ACCOUNT_NAME)] },
    group_list: { doc: "Every group: {name: {gid, members}}.", example: 'func "*" call users group_list', params: [] },
    add: {
      doc: "Adds a user with useradd; options: {uid, gid, home, shell, gecos, groups, system, create_home}. Returns info(name).",
      example: 'func "*" call users add deploy \'{"shell": "/bin/bash"}\'',
      params: [
        param("name", ACCOUNT_NAME),
        optional(
          "options",
          t.struct({
            uid: t.opt(t.int({ min: 0, max: 2 ** 32 - 2 })),
            gid: t.opt(ACCOUNT_NAME, "primary group name"),
            home: t.opt(t.string({ pattern: "/[A-Za-z0-9._/@+-]*", max_length: 4096 })),
            shell: t.opt(t.string({ pattern: "/[A-Za-z0-9._/+-]*", max_length: 4096 })),
            gecos: t.opt(t.string({ pattern: "[^:\\u0000-\\u001f]*", max_length: 256 })),
            groups: t.opt(t.array(ACCOUNT_NAME, { max_items: 64 })),
            system: t.opt(t.bool()),
            create_home: t.opt(t.bool()),
          }),
        ),
      ],
    },
    delete: {
      doc: "Deletes a user with userdel; options: {remove_home}. Returns true.",
      example: 'func "*" call users delete deploy',
      params: [param("name", ACCOUNT_NAME), optional("options", t.struct({ remove_home: t.opt(t.bool()) }))],
    },
    lock: { doc: "Locks a user's password (usermod -L). Returns true.", example: 'func "*" call users lock deploy', params: [param("name", ACCOUNT_NAME)] },
    unlock: { doc: "Unlocks a user's password (usermod -U). Returns true.", example: 'func "*" call users unlock deploy', params: [param("name", ACCOUNT_NAME)] },
    add_to_group: {
      doc: "Adds a user to a supplementary group (usermod -a -G). Returns groups(name).",
      example: 'func "*" call users add_to_group deploy adm',
      params: [param("name", ACCOUNT_NAME), param("group", ACCOUNT_NAME)],
    },
    group_add: {
      doc: "Adds a group with groupadd; options: {gid, system}. Returns true.",
      example: 'func "*" call users group_add deployers',
      params: [param("name", ACCOUNT_NAME), optional("options", t.struct({ gid: t.opt(t.int({ min: 0, max: 2 ** 32 - 2 })), system: t.opt(t.bool()) }))],
    },
    group_delete: { doc: "Deletes a group with groupdel. Returns true.", example: 'func "*" call users group_delete deployers', params: [param("name", ACCOUNT_NAME)] },
    inventory: INVENTORY_METHOD("users", "every user (name, uid, gid, home, shell, groups, locked) and group"),
  },
});
