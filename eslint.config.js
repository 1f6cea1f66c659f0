import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'

/** no-restricted-imports for one layer's files: `group` are the imports it must not make. */
function layer(files, group, message) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] } }
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'tests/fixtures/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off'
    }
  },
  // The layers (docs/architecture.md): shared → engine → data, runs → workflows → jobs → api → cli and the
  // Electron shell; each imports only those below it. One entry per layer, naming the arrows it must not draw.
  layer(['src/shared/**/*.ts'], ['electron', 'node:*', '**/main/**', '**/cli/**', '**/renderer/**', '**/preload/**'], 'shared/ is the contract: runtime-neutral, below everything'),
  layer(
    ['src/main/engine/**/*.ts'],
    ['electron', 'node:fs', 'node:fs/*', 'fs', 'fs/*', 'node:child_process', 'child_process', '**/renderer/**', '**/data/**', '**/runs/**', '**/workflows/**', '**/jobs/**', '**/api/**', '**/cli/**', '**/util/**', '**/workspace'],
    'the engine computes on tensors: no files, no processes, nothing above it (it reports through engine/report.ts, stores through a RunStore)'
  ),
  layer(['src/main/data/**/*.ts', 'src/main/runs/**/*.ts'], ['electron', '**/renderer/**', '**/workflows/**', '**/jobs/**', '**/api/**', '**/cli/**'], 'data/ and runs/ sit below the workflows, jobs and api'),
  layer(['src/main/workflows/**/*.ts', 'src/main/cluster/**/*.ts'], ['electron', '**/renderer/**', '**/jobs/**', '**/api/**', '**/cli/**'], 'a workflow is run by the CLI and by jobs, never the other way round'),
  layer(['src/main/jobs/**/*.ts'], ['**/renderer/**', '**/api/**', '**/cli/**'], 'jobs sit below the api and the CLI'),
  layer(['src/main/api/**/*.ts'], ['**/renderer/**', '**/cli/**'], 'the api sits below the CLI'),
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron', 'node:*', '**/main/**', '**/cli/**', '**/preload/**'], message: 'the renderer sees only src/shared/' }] }],
      // vue-tsc checks names, DOM types included (typescript-eslint's advice for typed code)
      'no-undef': 'off'
    }
  },
  {
    files: ['bin/**/*.mjs', 'scripts/**/*.{mjs,js}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } }
  }
)
