// ESLint (flat config) for the page code and its unit tests. Run from the
// repository root, so one config covers assets/app and tests/js:
//   assets/node_modules/.bin/eslint --config assets/eslint.config.js assets/app tests/js
// From assets/ alone, `npx eslint app` lints the page code only.

// CommonJS on purpose: assets/package.json has no "type", and an ES module here
// would make Node reparse it with a warning on every run.
const js = require('@eslint/js');
const globals = require('globals');

// Set by the vendored libraries' <script> tags before the page's modules run.
const vendorGlobals = { cv: 'readonly', tf: 'readonly', h337: 'readonly', Stats: 'readonly' };

module.exports = [
  { ignores: ['**/node_modules/', 'dist/', 'build/', '.venv/'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { ...globals.browser, ...vendorGlobals },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  {
    files: ['**/eslint.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
];
