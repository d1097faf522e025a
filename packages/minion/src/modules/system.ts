// The `system` module: what this minion offers. Python clients expect `listMethods` and `methodHelp` too.

import { FuncError } from "@func/shared/core";
import { signature, type FuncModule } from "../registry.js";

function checkModuleName(name: string | undefined): string | undefined {
  if (name !== undefined && !/^[a-z_][a-z0-9_]*$/.test(name)) throw new FuncError("BadArguments", "not a module name");
  return name;
}

export const systemModule: FuncModule = {
  name: "system",
  description: "Introspection: modules, methods and their help",
  methods: {
    list_modules: {
      doc: "Names of the modules this minion serves.",
      example: 'func "*" call system list_modules',
      params: [],
      run: (ctx) => ctx.registry.modules(),
    },
    list_methods: {
      doc: "Every module.method this minion serves, or those of one module.",
      example: 'func "*" call system list_methods test',
      params: [{ name: "module", type: "string", optional: true }],
      run: (ctx, module) => ctx.registry.methods(checkModuleName(module as string | undefined)),
    },
    listMethods: {
      doc: "XML-RPC introspection alias of list_methods.",
      example: 'func "*" call system listMethods',
      params: [],
      run: (ctx) => ctx.registry.methods(),
    },
    method_help: {
      doc: "Signature, description and CLI example of one method.",
      example: 'func "*" call system method_help command.run',
      params: [{ name: "method", type: "string" }],
      run: (ctx, method) => {
        const spec = ctx.registry.lookup(method as string);
        return { signature: signature(method as string, spec), doc: spec.doc, example: spec.example };
      },
    },
    methodHelp: {
      doc: "XML-RPC introspection alias: the help text of one method.",
      example: 'func "*" call system methodHelp test.add',
      params: [{ name: "method", type: "string" }],
      run: (ctx, method) => {
        const spec = ctx.registry.lookup(method as string);
        return `${signature(method as string, spec)}: ${spec.doc} Example: ${spec.example}`;
      },
    },
  },
};
