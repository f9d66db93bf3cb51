import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// Sources import `./x.js` for `./x.ts` (NodeNext), so the resolver maps .js to .ts/.tsx first.
const resolver = createNodeResolver({
  extensions: ['.ts', '.tsx', '.mjs', '.cjs', '.js', '.json', '.node'],
  extensionAlias: { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'] },
});

// Layers that core must not know: it declares ports, the rest implements or renders them.
const notFromCore = ['protocols', 'api', 'cli', 'storage', 'notify', 'directory', 'export', 'recording', 'presenters'];
const sqlDrivers = ['kysely', 'kysely/*', 'pg', 'pg/*', 'better-sqlite3'];
const size = { skipBlankLines: true, skipComments: true };
const importSettings = {
  'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs', '.cjs'],
  'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
  'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
  'import-x/resolver-next': [resolver],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'test-artifacts/**', 'src/web/dist/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
    },
  },
  { files: ['web/src/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    files: ['src/**/*.ts', 'web/src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: importSettings,
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'max-lines': ['error', { max: 400, ...size }],
      'max-lines-per-function': ['error', { max: 80, ...size, IIFEs: true }],
    },
  },
  // A shipped migration is never edited, so it is not split to fit the function size rule.
  { files: ['src/storage/migrations/**'], rules: { 'max-lines-per-function': 'off' } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/storage/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: sqlDrivers, message: 'SQL lives in src/storage/: use a port.' }] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: importSettings,
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/core',
              from: [...notFromCore.map((d) => `./src/${d}`), './src/services.ts', './src/services-core.ts', './src/services'],
              message: 'core depends on no protocol, API, CLI or adapter: declare a port in core instead.',
            },
          ],
        },
      ],
    },
  },
);
