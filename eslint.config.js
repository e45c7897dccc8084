// One lint gate for the whole tree. Two guards keep the picture of docs/architecture.md true:
// - layers point one way: each room of src/ may import only the rooms below it, by package path or by relative
//   path (`import '../http/app.js'` inside src/policy fails here);
// - the pure rooms (reference, policy, engine, admission, audit, policy-import, pull-secrets, leader) import no I/O
//   module and read no environment: docs/architecture.md's "pure core, thin shell", enforced rather than hoped for.
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

const JSON_STRINGIFY_ERR = {
  selector:
    'CallExpression[callee.object.name="JSON"][callee.property.name="stringify"] > Identifier[name=/^err/]',
  message: 'JSON.stringify(err) prints {}: log the error object itself.',
};

/** Each room of src/ and the rooms it may import (docs/architecture.md draws the same map). */
const ROOMS = {
  reference: [],
  policy: ['reference'],
  engine: ['policy', 'reference'],
  admission: ['engine', 'policy', 'reference'],
  audit: ['engine', 'policy', 'reference'],
  'policy-import': ['policy', 'reference'],
  'pull-secrets': ['policy', 'reference'],
  leader: [],
  certs: [],
  registry: ['policy', 'pull-secrets', 'reference'],
  http: ['admission', 'engine', 'policy', 'reference'],
  kube: ['audit', 'certs', 'engine', 'leader', 'policy', 'pull-secrets', 'reference', 'registry'],
  runtime: [
    'certs',
    'engine',
    'http',
    'kube',
    'policy',
    'policy-import',
    'pull-secrets',
    'reference',
    'registry',
  ],
  cli: [
    'audit',
    'certs',
    'engine',
    'kube',
    'policy',
    'policy-import',
    'pull-secrets',
    'reference',
    'registry',
    'runtime',
  ],
};
const PURE_ROOMS = [
  'reference',
  'policy',
  'engine',
  'admission',
  'audit',
  'policy-import',
  'pull-secrets',
  'leader',
];

/** `../http/…`, `../../http/…`, `../main.js`: the relative paths into the rooms `room` may not import. */
function layerPatterns(room) {
  const forbidden = [...Object.keys(ROOMS).filter((r) => r !== room && !ROOMS[room].includes(r))];
  return [
    ...forbidden.map((other) => ({
      regex: `^(\\.\\./)+${other}/`,
      message: `src/${room} may not import src/${other}: layers point one way (docs/architecture.md).`,
    })),
    { regex: '^(\\.\\./)+main\\.js$', message: 'Nothing imports the composition root.' },
  ];
}

const ioPaths = ioModules.map((name) => ({
  name,
  message: 'The core is pure: I/O belongs in http/, kube/, runtime/ or cli/.',
}));

const layerConfigs = Object.keys(ROOMS).flatMap((room) => {
  const pure = PURE_ROOMS.includes(room);
  const restricted = (paths) => ({
    'no-restricted-imports': ['error', { paths, patterns: layerPatterns(room) }],
  });
  return pure
    ? [
        {
          files: [`src/${room}/**`],
          ignores: ['**/*.test.ts'],
          rules: {
            ...restricted(ioPaths),
            'no-restricted-globals': [
              'error',
              { name: 'process', message: 'The core reads no environment.' },
            ],
            'no-restricted-syntax': [
              'error',
              JSON_STRINGIFY_ERR,
              { selector: 'ImportExpression', message: 'The core loads no module at run time.' },
            ],
          },
        },
        // Tests beside the code may read fixtures from disk, but not reach into higher rooms either.
        { files: [`src/${room}/**/*.test.ts`], rules: restricted([]) },
      ]
    : [{ files: [`src/${room}/**`], rules: restricted([]) }];
});

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
      'no-restricted-syntax': ['error', JSON_STRINGIFY_ERR],
    },
  },
  // The benchmark scripts and the e2e node's helper scripts are plain Node ESM.
  { files: ['bench/**/*.mjs', 'test/e2e/node/**/*.mjs'], languageOptions: { globals: globals.node } },
  ...layerConfigs,
);
