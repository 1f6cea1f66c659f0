import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'

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
  {
    // the engine is pure computation: no Electron, no file-system-free rule here, but never the renderer
    files: ['src/main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['electron', '**/renderer/**', '**/data/**'] }]
    }
  },
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      'no-restricted-imports': ['error', { patterns: ['electron', 'node:*', '**/main/**'] }],
      // vue-tsc checks names, DOM types included (typescript-eslint's advice for typed code)
      'no-undef': 'off'
    }
  },
  {
    files: ['bin/**/*.mjs', 'scripts/**/*.{mjs,js}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } }
  }
)
