#!/usr/bin/env node
// The `equiav` command. Runs the TypeScript sources through tsx, so `npx equiav …` works right after
// `npm install` with no build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/index.ts')
process.exitCode = await main(process.argv.slice(2))
