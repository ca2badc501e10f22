// Lint rules for all TypeScript in the repo (Node, Deno and web code alike).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', '.local/', 'artifacts/', 'test-results/', 'playwright-report/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { Deno: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through functions/_shared/config.ts, not process.env.',
        },
      ],
    },
  },
  {
    // entry points, scripts and tests are where the environment legitimately enters the program
    files: [
      'scripts/**',
      'tests/**',
      'bench/**',
      '**/*.test.ts',
      'workers/**/main.ts',
      'workers/**/cli.ts',
      '*.config.ts',
      'web/**/*.config.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
