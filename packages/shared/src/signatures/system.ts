// Signatures of the `system` module: what a minion offers, and the help of its methods.

import { defineModule, optional, param, t } from "./schema.js";

/** A module name; `module.method` names a method. */
export const MODULE_NAME_PATTERN = "[a-z_][a-z0-9_]*";
export const METHOD_NAME_PATTERN = "[a-z_][a-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*";

export const SYSTEM = defineModule({
  name: "system",
  description: "Introspection: modules, methods, their help and signatures",
  methods: {
    list_modules: { doc: "Names of the modules this minion serves.", example: 'func "*" call system list_modules', params: [] },
    list_methods: {
      doc: "Every module.method this minion serves, or those of one module.",
      example: 'func "*" call system list_methods test',
      params: [optional("module", t.string({ pattern: MODULE_NAME_PATTERN }))],
    },
    listMethods: { doc: "XML-RPC introspection alias of list_methods.", example: 'func "*" call system listMethods', params: [] },
    method_help: {
      doc: "Signature, description and CLI example of one method.",
      example: 'func "*" call system method_help command.run',
      params: [param("method", t.string(), "module.method (a name the minion does not serve is fault 2)")],
    },
    methodHelp: {
      doc: "XML-RPC introspection alias: the help text of one method.",
      example: 'func "*" call system methodHelp test.add',
      params: [param("method", t.string(), "module.method (a name the minion does not serve is fault 2)")],
    },
    inventory: {
      doc: "Every module and method this minion serves, with its signature: {funcd_version, modules: [{name, description, methods}]}.",
      example: 'func "*" call system inventory',
      params: [],
    },
  },
});
