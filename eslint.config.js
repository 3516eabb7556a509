// ESLint (flat config): typescript-eslint's type-checked rules over src/, test/, bin/ and the configs.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["reports/", "dist/", "node_modules/", "schema/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: {
          // This file is outside tsconfig's include: type-checked with default options.
          allowDefaultProject: ["eslint.config.js", ".dependency-cruiser.cjs"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      // Step handlers and commander actions are async to fit a Promise-returning table; the
      // promise rules above catch the real mistakes.
      "@typescript-eslint/require-await": "off",
      // tsc's noUnusedLocals reports unused locals and imports already; handler parameters and
      // `_`-named rest siblings (omitting a field) are unused by design.
      "@typescript-eslint/no-unused-vars": "off",
    },
  },
  {
    // Tests assert on JSON.parse'd reports and child-process output: `any` there is checked by expect().
    files: ["test/**"],
    rules: {
      // An expected string that a value turns into "[object Object]" fails its assertion anyway.
      "@typescript-eslint/no-base-to-string": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // The report page's script runs in the browser; tsc checks it (@ts-check) against page-data.ts.
    files: ["src/report/html/*.js"],
    languageOptions: { globals: globals.browser },
    rules: {
      // Its JSDoc casts, `/** @type {T} */ (x)`, are invisible to these rules (the parentheses vanish).
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
  {
    // The build script runs before dist/ exists and imports it once built, and reads its stamp as JSON:
    // plain JS outside tsconfig's checkJs, its JSDoc types invisible to these rules (like the page's).
    files: ["scripts/*.js"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  // Last, so that no stylistic rule fights prettier.
  prettier,
);
