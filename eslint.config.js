// Lint: typescript-eslint's recommended rules over the sources and tests, a few type-aware rules on the
// TypeScript (floating promises, needless assertions, type-only exports), and the package boundaries of
// DESIGN section 2 (minion and overlord never import each other; the async runner loads only the core).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const GLOBALS = { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", AbortSignal: "readonly", AbortController: "readonly", performance: "readonly", setImmediate: "readonly" };

/** no-restricted-imports patterns: a package never imports the named others, nor any package by a relative path. */
function boundary(...forbidden) {
  return {
    "no-restricted-imports": ["error", {
      patterns: [
        ...forbidden.map((name) => ({ group: [name, `${name}/*`], message: `DESIGN section 2: this package never imports ${name}` })),
        { group: ["../../*/src/*", "../../../packages/*"], message: "import other packages by name (@func/...), never by a relative path" },
      ],
    }],
  };
}

export default tseslint.config(
  { ignores: ["**/dist/**", "node_modules/**", "bench/tmp/**", ".fleet/**", "packages/shared/launch.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: GLOBALS },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      "@typescript-eslint/consistent-type-exports": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
    },
  },
  { files: ["packages/shared/src/**/*.ts"], rules: boundary("@func/minion", "@func/overlord", "@func/web") },
  { files: ["packages/minion/src/**/*.ts"], rules: boundary("@func/overlord", "@func/web") },
  { files: ["packages/overlord/src/**/*.ts"], rules: boundary("@func/minion", "@func/web") },
  { files: ["packages/web/src/**/*.ts", "packages/web/page/**/*.ts"], rules: boundary("@func/minion") },
  {
    // the async job runner's start-up cost is every async job's: it loads the core entry of shared only
    files: ["packages/minion/src/bin/job-runner.ts", "packages/minion/src/jobs/job-runner.ts", "packages/minion/src/jobs/job-spool.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { paths: [{ name: "@func/shared", allowTypeImports: true, message: "the job runner imports @func/shared/core only (no codec, PKI or LMDB: test/runner-start.test.ts)" }] }],
    },
  },
);
