// The site's JavaScript linter (flat config), run by tests/unit/test_site_lint.py: ESLint's recommended rules on the
// site's own modules (site/js/), which run in the browser as ES modules; the vendored packages are not ours to lint.
import js from "@eslint/js";
import globals from "globals";

export default [
  {ignores: ["site/vendor/**", "node_modules/**", "tools/**", "var/**", "build/**"]},
  js.configs.recommended,
  {
    files: ["site/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {...globals.browser, Cropper: "readonly"},
    },
    rules: {
      "no-unused-vars": ["error", {args: "after-used", caughtErrors: "none"}],
      eqeqeq: ["error", "always", {null: "ignore"}],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
