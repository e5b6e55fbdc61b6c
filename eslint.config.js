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
);
