// One lint gate for the whole tree. The pure layers (reference, policy, admission, pull-secrets, leader) may not import I/O
// modules: STYLE.md's "pure core, thin shell", enforced rather than hoped for.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ioModules = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'http',
  'node:http',
  'https',
  'node:https',
  'net',
  'node:net',
  'child_process',
  'node:child_process',
  'pino',
  'express',
  '@kubernetes/client-node',
  'prom-client',
  'selfsigned',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-scripts/**',
      'dist-image/**',
      'node_modules/**',
      'coverage/**',
      'test/e2e/controlplane/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name="JSON"][callee.property.name="stringify"] > Identifier[name=/^err/]',
          message: 'JSON.stringify(err) prints {}: log the error object itself.',
        },
      ],
    },
  },
  // The benchmark scripts and the e2e node's helper scripts are plain Node ESM.
  { files: ['bench/**/*.mjs', 'test/e2e/node/**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    files: [
      'src/reference/**',
      'src/policy/**',
      'src/admission/**',
      'src/pull-secrets/**',
      'src/leader/**',
      'src/sources/**',
      'src/audit/**',
    ],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'The core is pure: I/O belongs in http/, kube/ or cli/.',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'The core reads no environment.' }],
    },
  },
);
