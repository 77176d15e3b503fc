// Type-aware linting: promises must be awaited or handled, and switches over unions exhaustive.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** libs/** never imports apps/**, by path or by a path alias. */
const NO_APPS = {
  group: ['apps/*', '**/apps/*', '@apps/*'],
  message: 'libs/** must not import from apps/** (move what both need into a library).',
};

const PURE_RULE_FILES = [
  'apps/*/src/state/**/*.ts',
  'libs/routing-rules/**/*.ts',
  'apps/routing/src/rendering/**/*.ts',
  'apps/routing/src/badge/**/*.ts',
  'apps/**/*classif*.ts',
  'libs/**/*classif*.ts',
];

const PURE_RULES = {
  paths: [
    { name: 'kafkajs', message: 'Pure-rule code must not depend on the Kafka client.' },
    { name: '@app/kafka', message: 'Pure-rule code must not depend on @app/kafka.' },
  ],
  patterns: [
    { group: ['@nestjs/*'], message: 'Pure-rule code must not depend on Nest.' },
    { group: ['@app/kafka/*'], message: 'Pure-rule code must not depend on @app/kafka.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', '.tools/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-console': 'error',
      curly: ['error', 'multi-line'],
    },
  },
  {
    // Production functions stay readable on one screen: 60 lines of code at most. Specs, test
    // helpers, benchmarks, scripts and examples are excluded (describe blocks are long by nature).
    files: ['apps/**/src/**/*.ts', 'libs/**/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  {
    // Libraries are shared by the services and never reach into one of them.
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_APPS] }] },
  },
  {
    // Pure rules (state machines, decisions, rendering, badges, provider-answer classifiers) are
    // plain functions over plain data: no Nest, no Kafka client, no @app/kafka.
    files: PURE_RULE_FILES,
    rules: { 'no-restricted-imports': ['error', PURE_RULES] },
  },
  {
    // A classifier in a library, and the routing rules, are both (a later entry replaces the
    // rule's options, not merges).
    files: ['libs/**/*classif*.ts', 'libs/routing-rules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...PURE_RULES, patterns: [...PURE_RULES.patterns, NO_APPS] },
      ],
    },
  },
  {
    files: [
      '**/*.spec.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'libs/testing/**/*.ts',
    ],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
