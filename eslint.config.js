// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// core/ is the shared engine: it must never depend on Electron, the UI or the CLI.
const coreBoundary = {
  patterns: [
    {
      group: ['electron', 'electron/*', 'electron-store'],
      message: 'core/ never imports Electron.',
    },
    {
      group: ['**/cli/**', '**/main/**', '**/preload/**', '**/renderer/**', '**/helper/**'],
      message: 'core/ never imports cli/, main/, preload/, renderer/ or helper/ code.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', coreBoundary] },
  },
  {
    // The pages talk to window.pullback only: types from preload/api.ts, nothing that runs.
    files: ['renderer/**/*.ts'],
    rules: {
      // Names and messages from the backup host reach the pages as text, never as markup.
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'write', 'writeln'].map((property) => ({
          property,
          message:
            'renderer/ puts text into the page with textContent (and safeText), never markup.',
        })),
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // core/format.js and core/safe-text.js are pure and copied into the renderer build
              // (scripts/build-ui.mjs).
              group: [
                'node:*',
                'electron',
                'electron/*',
                '**/core/**',
                '!../core/format.js',
                '!../core/safe-text.js',
                '**/main/**',
                '**/cli/**',
              ],
              message:
                'renderer/ never imports Node, Electron, core/ (but core/format.js, core/safe-text.js) or main/ code.',
            },
            {
              group: ['**/preload/**'],
              allowTypeImports: true,
              message: 'renderer/ imports only types from preload/api.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Pure by design (Node tests import them): the tray menu, its texts and the backend.
    files: [
      'main/tray-menu.ts',
      'main/host-summary.ts',
      'main/notification-text.ts',
      'main/backend.ts',
      'main/preferences.ts',
      'main/pairing-session.ts',
      'main/tray-actions.ts',
      'main/autostart.ts',
      'main/renderer-url.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron', 'electron-store'], patterns: ['electron/*'] },
      ],
    },
  },
);
