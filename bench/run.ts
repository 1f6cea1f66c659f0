/**
 * `npm run bench`: engine speed on every backend that loads here, each in its own process.
 * Options: --backends wasm,cpu   --tiny-steps N   --base-forwards N
 * Writes bench/results/engine-<date>.json and prints a table; compare numbers only within one run.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'tensorflow-gpu,tensorflow,wasm,cpu' },
    'tiny-steps': { type: 'string', default: '5' },
    'base-forwards': { type: 'string', default: '2' }
  }
})

const rows: Record<string, unknown>[] = []
for (const backend of values.backends!.split(',')) {
  // the pure-JS cpu backend is ~75× slower than wasm: one timed step, no base forward
  const slow = backend === 'cpu'
  try {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(here, 'engine.ts'), backend, slow ? '1' : values['tiny-steps']!, slow ? '0' : values['base-forwards']!],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 }
    )
    rows.push({ ...JSON.parse(out.trim().split('\n').pop()!), backend })
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? ''
    const msg = stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? (err as Error).message
    rows.push({ backend, skipped: msg.trim().slice(0, 300) })
  }
  console.log(JSON.stringify(rows[rows.length - 1]))
}
mkdirSync(join(here, 'results'), { recursive: true })
const file = join(here, 'results', `engine-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`)
writeFileSync(file, JSON.stringify(rows, null, 2))
console.log(`written ${file}`)
