/**
 * `npm run bench`: the engine side by side with PyTorch on this machine, in one run.
 *
 * In each of --rounds rounds, for both objectives (equiav, inter-only), one after the other: our `tiny`
 * step (bench/engine.ts, its own process), PyTorch's (bench/reference/torch_step.py) on 1 thread and on
 * --workers threads with OMP_WAIT_POLICY=PASSIVE, and for equiav on --workers threads with OpenMP's default
 * (spinning) wait; and the data-parallel engine (bench/data-parallel.ts, when this checkout has it). Load on
 * the machine thus falls on every contender alike; medians over the rounds. Then once: the 2048² matmul on
 * both sides, the tiny embedding throughput, the `base` forward, the two micro comparisons of engine.ts,
 * and the per-kernel profile of a step (bench/profile.ts).
 * Writes bench/results/latest.json (and a dated copy) and prints the table of docs/benchmarks.md.
 * Options: --rounds 3 --steps 3 --workers <cores> --python /usr/bin/python3 (or $EQUIAV_BENCH_PYTHON)
 *          --backend wasm --base-forwards 1 --no-profile
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { PRESETS } from '../src/main/engine/config'
import { median as middle } from './median'

const here = dirname(fileURLToPath(import.meta.url))
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '3' },
    workers: { type: 'string', default: String(availableParallelism()) },
    python: { type: 'string', default: process.env.EQUIAV_BENCH_PYTHON ?? '/usr/bin/python3' },
    backend: { type: 'string', default: 'wasm' },
    'base-forwards': { type: 'string', default: '1' },
    'no-profile': { type: 'boolean', default: false }
  }
})
const rounds = Number(opt.rounds)
const workers = Number(opt.workers)
const OBJECTIVES = ['equiav', 'inter-only'] as const
type Json = Record<string, unknown>

const median = (xs: number[]): number | null => (xs.length ? middle(xs) : null)
const round = (x: number | null, digits = 1): number | null => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits)

/** A child's JSON line (the last it printed), or { skipped: reason } when it failed. */
function childResult(cmd: string, args: string[], status: number | null, stdout: string, stderr: string): Json {
  const last = stdout.trim().split('\n').pop() ?? ''
  if (status !== 0 || !last.startsWith('{')) {
    const why = stderr.split('\n').filter((l) => /Error|error:/.test(l)).pop() ?? stderr.trim().split('\n').pop() ?? `exit ${status}`
    return { skipped: `${[cmd, ...args.slice(0, 3)].join(' ')} failed: ${why.trim().slice(0, 300)}` }
  }
  return JSON.parse(last) as Json
}

/** Run a child that prints one JSON line last; a failure becomes { skipped: reason }. */
function child(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Json {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 })
  if (r.error) return { skipped: `${cmd}: ${r.error.message}` }
  return childResult(cmd, args, r.status, r.stdout, r.stderr)
}

const engineArgs = (args: string[]): string[] => ['--import', 'tsx', join(here, 'engine.ts'), '--backend', opt.backend!, ...args]
const engine = (args: string[]): Json => child(process.execPath, engineArgs(args))

/** `n` engine.ts processes at once (each one thread, no communication); resolves with each one's JSON line. */
function enginesAtOnce(n: number, args: string[]): Promise<Json[]> {
  const one = (): Promise<Json> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, engineArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] })
      let [out, err] = ['', '']
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      p.on('error', (e) => resolve({ skipped: `${process.execPath}: ${e.message}` }))
      p.on('close', (code) => resolve(childResult(process.execPath, engineArgs(args), code, out, err)))
    })
  return Promise.all(Array.from({ length: n }, one))
}

/** PyTorch on `threads` threads; `passive` sets OMP_WAIT_POLICY=PASSIVE, else OpenMP's default spin-wait. */
function torch(args: string[], threads: number, passive: boolean): Json {
  const n = String(threads)
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n }
  if (passive) env.OMP_WAIT_POLICY = 'PASSIVE'
  else delete env.OMP_WAIT_POLICY
  return child(opt.python!, [join(here, 'reference', 'torch_step.py'), ...args, '--threads', n], env)
}

interface DataParallelFigures {
  step_ms_1_worker: number
  step_ms_n_workers: number
  workers: number
  dp_speedup: number
  embed_clips_per_s: number
  /** CPU ms per thread and wall ms per phase of the steps (bench/data-parallel.ts StepProfile) */
  step_profile: Json
}
const dpModule = join(here, 'data-parallel.ts')
const dp = existsSync(dpModule)
  ? ((await import(pathToFileURL(dpModule).href)) as { measureDataParallel(workers: number, rounds?: number): Promise<DataParallelFigures>; medianOf(xs: Json[]): Json })
  : null
const stepProfiles: Json[] = []

const loadStart = loadavg()
const config = JSON.stringify(PRESETS.tiny)
const torchSteps = ['step', '--config', config, '--steps', opt.steps!]
const samples = new Map<string, number[]>()
const add = (key: string, x: unknown): void => {
  if (typeof x === 'number' && Number.isFinite(x)) samples.set(key, [...(samples.get(key) ?? []), x])
}
const med = (key: string): number | null => round(median(samples.get(key) ?? []))
const skipped: string[] = []
const note = (what: string, r: Json): Json => {
  const line = typeof r.skipped === 'string' ? `${what}: ${r.skipped}` : null
  if (line && !skipped.includes(line)) skipped.push(line)
  return r
}
let torchMeta: Json = {}
let torchAbsent = false
let growth = 0

for (let r = 0; r < rounds; r++) {
  for (const objective of OBJECTIVES) {
    const ours = note('ours', engine(['--objective', objective, '--steps', opt.steps!])).step as Json | undefined
    add(`ours.${objective}`, ours?.ms)
    add(`ours.${objective}.cpu`, ours?.cpu_ms)
    growth = Math.max(growth, (ours?.tensors_growth_per_1000_steps as number | undefined) ?? 0)
    if (torchAbsent) continue
    const contenders: Array<[string, number, boolean]> = [['1_thread', 1, true]]
    if (workers > 1) contenders.push(['n_threads', workers, true])
    if (workers > 1 && objective === 'equiav') contenders.push(['n_threads_spin', workers, false])
    for (const [name, threads, passive] of contenders) {
      const t = note('PyTorch', torch([...torchSteps, '--objective', objective], threads, passive))
      if (t.skipped) {
        torchAbsent = true
        break
      }
      torchMeta = { torch: t.torch, blas: t.blas }
      add(`torch.${objective}.${name}.wall`, t.wall_ms)
      add(`torch.${objective}.${name}.cpu`, t.cpu_ms)
    }
  }
  if (workers > 1) {
    // the machine's own ceiling for N workers: N independent one-thread trainings at once, nothing shared
    for (const r of await enginesAtOnce(workers, ['--objective', 'equiav', '--steps', opt.steps!])) add('ours.equiav.concurrent', (r.step as Json | undefined)?.ms)
  }
  if (dp) {
    const f = await dp.measureDataParallel(workers, Number(opt.steps)) // --steps timed pairs after two warm-up pairs, as ours: --steps after a warm-up step
    for (const [k, x] of Object.entries(f)) add(`dp.${k}`, x)
    stepProfiles.push(f.step_profile)
  }
  console.error(`round ${r + 1}/${rounds} done`)
}

const once = note('ours', engine(['--matmul', '--embed', '--micro', '--base-forwards', opt['base-forwards']!]))
const torchMatmul = torchAbsent
  ? []
  : [1, workers].filter((n, i) => i === 0 || n > 1).map((n) => note('PyTorch', torch(['matmul'], n, true)).gflops as number | undefined)
const profile = opt['no-profile']
  ? {}
  : Object.fromEntries(OBJECTIVES.map((o) => [o, note('profile', child(process.execPath, ['--import', 'tsx', join(here, 'profile.ts'), opt.backend!, o, '2']))]))

// figures
const stepOurs1 = dp ? med('dp.step_ms_1_worker') : med('ours.equiav')
const stepOursN = dp ? med('dp.step_ms_n_workers') : null
const torch1 = med('torch.equiav.1_thread.wall')
const torchN = med('torch.equiav.n_threads.wall')
const torchBest = [torch1, torchN].filter((x): x is number => x !== null).reduce<number | null>((a, b) => (a === null ? b : Math.min(a, b)), null)
const oursForRatio = stepOursN ?? stepOurs1
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null ? round(a / b, 3) : null)
const stepAlone = med('ours.equiav')
const gflops = (x: unknown): number | null => (typeof x === 'number' ? x : null)
const torchGflops = torchMatmul.map(gflops).filter((x): x is number => x !== null)

const latest = {
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), load_average_start: loadStart.map((x) => round(x, 2)), load_average_end: loadavg().map((x) => round(x, 2)), node: process.version },
  backend: once.backend ?? null,
  pytorch: torchAbsent ? null : torchMeta,
  rounds,
  steps_per_round: Number(opt.steps),
  data_parallel: dp ? 'bench/data-parallel.ts' : 'absent from this checkout: 1-worker figures only',
  step_ms_1_worker: stepOurs1,
  step_ms_n_workers: stepOursN,
  workers: dp ? (med('dp.workers') ?? workers) : 1,
  dp_speedup: dp ? round(median(samples.get('dp.dp_speedup') ?? []), 2) : null,
  /** where the data-parallel step's time goes: CPU ms per thread, wall ms per phase (medians over the rounds) */
  step_profile: dp && stepProfiles.length ? dp.medianOf(stepProfiles) : null,
  /**
   * N × (one thread alone ÷ one of N independent one-thread trainings running at once): the throughput N
   * cores give to N copies that share nothing, an upper bound for dp_speedup on this machine
   */
  parallel_ceiling: ratio(stepAlone === null ? null : workers * stepAlone, med('ours.equiav.concurrent')),
  pytorch_step_ms_1_thread: torch1,
  pytorch_step_ms_best: torchBest,
  train_step_ratio_vs_pytorch: torchBest !== null && oursForRatio !== null ? round(torchBest / oursForRatio, 3) : null,
  /** per core and insensitive to other load: PyTorch's 1-thread CPU time ÷ ours (1 worker) */
  train_step_ratio_vs_pytorch_by_cpu_time: ratio(med('torch.equiav.1_thread.cpu'), med('ours.equiav.cpu')),
  train_step_ratio_basis: stepOursN !== null ? `ours on ${workers} workers` : 'ours on 1 worker (no data-parallel engine here)',
  matmul_gflops_wasm: gflops((once.matmul as Json | undefined)?.gflops),
  matmul_gflops_pytorch: torchGflops.length ? Math.max(...torchGflops) : null,
  matmul_gflops_pytorch_1_thread: gflops(torchMatmul[0]),
  embed_clips_per_s: dp ? med('dp.embed_clips_per_s') : gflops((once.embed as Json | undefined)?.clips_per_s),
  embed_basis: dp ? `data-parallel engine, ${workers} workers` : 'tiny forwardFeat, batch 16, 1 thread',
  tensors_growth_per_1000_steps: growth,
  objectives: Object.fromEntries(
    OBJECTIVES.map((o) => [
      o,
      {
        ours_step_ms: med(`ours.${o}`),
        ours_step_cpu_ms: med(`ours.${o}.cpu`),
        pytorch_1_thread_wall_ms: med(`torch.${o}.1_thread.wall`),
        pytorch_1_thread_cpu_ms: med(`torch.${o}.1_thread.cpu`),
        pytorch_n_threads_wall_ms: med(`torch.${o}.n_threads.wall`),
        pytorch_n_threads_cpu_ms: med(`torch.${o}.n_threads.cpu`),
        pytorch_n_threads_spin_wall_ms: med(`torch.${o}.n_threads_spin.wall`)
      }
    ])
  ),
  base_forward_ms: once.base_forward_ms ?? null,
  base_embed_ms: once.base_embed_ms ?? null,
  patchify_audio_ms: once.patchify_audio_ms ?? null,
  attention_products_ms: once.attention_products_ms ?? null,
  profile,
  skipped
}

mkdirSync(join(here, 'results'), { recursive: true })
const body = JSON.stringify(latest, null, 2)
writeFileSync(join(here, 'results', 'latest.json'), body)
writeFileSync(join(here, 'results', `bench-${latest.date.slice(0, 19).replace(/:/g, '')}.json`), body)

const cell = (x: number | null, unit = ''): string => (x === null ? '–' : `${x}${unit}`)
const rows: Array<[string, string]> = [
  ['`tiny` step, equiav, ours 1 worker / N workers (ms)', `${cell(stepOurs1)} / ${cell(stepOursN)}`],
  ['dp_speedup', cell(latest.dp_speedup)],
  [`parallel_ceiling (${workers} independent 1-thread trainings at once vs one alone)`, cell(latest.parallel_ceiling)],
  ...OBJECTIVES.map((o): [string, string] => {
    const f = latest.objectives[o]
    return [
      `\`tiny\` step, ${o}: ours wall (cpu) / PyTorch 1 thread wall (cpu) / ${workers} threads passive wall (cpu) / spin wall (ms)`,
      `${cell(f.ours_step_ms)} (${cell(f.ours_step_cpu_ms)}) / ${cell(f.pytorch_1_thread_wall_ms)} (${cell(f.pytorch_1_thread_cpu_ms)}) / ${cell(f.pytorch_n_threads_wall_ms)} (${cell(f.pytorch_n_threads_cpu_ms)}) / ${cell(f.pytorch_n_threads_spin_wall_ms)}`
    ]
  }),
  ['train_step_ratio_vs_pytorch (PyTorch best ÷ ours)', `${cell(latest.train_step_ratio_vs_pytorch)} (${latest.train_step_ratio_basis})`],
  ['the same by CPU time, 1 thread each (PyTorch ÷ ours)', cell(latest.train_step_ratio_vs_pytorch_by_cpu_time)],
  ['2048² matmul GFLOP/s: ours / PyTorch 1 thread / best', `${cell(latest.matmul_gflops_wasm)} / ${cell(latest.matmul_gflops_pytorch_1_thread)} / ${cell(latest.matmul_gflops_pytorch)}`],
  ['embed_clips_per_s', `${cell(latest.embed_clips_per_s)} (${latest.embed_basis})`],
  ['tensors_growth_per_1000_steps', String(growth)],
  ...(['base_forward_ms', 'base_embed_ms'] as const).map((k): [string, string] => {
    const b = latest[k] as Json | null
    return [`\`base\` ${k === 'base_forward_ms' ? 'pretraining forward' : 'embedding forward (forwardFeat)'}, batch 1: ms (matmul GFLOP, GFLOP/s)`, b ? `${b.median} (${b.matmul_gflop}, ${b.matmul_gflops_at_this_time})` : '–']
  })
]
for (const o of OBJECTIVES) {
  const p = (profile as Record<string, Json>)[o]
  if (p && !p.skipped) {
    rows.push([
      `profile, ${o}: step / matmul / other kernels / outside kernels / collation (ms)`,
      `${p.step_ms} / ${p.matmul_ms} (${Math.round((p.matmul_share as number) * 100)}%) / ${round((p.kernel_ms as number) - (p.matmul_ms as number))} / ${p.outside_kernels_ms} / ${p.collate_ms}`
    ])
  }
}
console.log('\n| what | figure |\n|---|---|\n' + rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n'))
for (const s of skipped) console.log(`skipped: ${s}`)
console.log(`written ${join(here, 'results', 'latest.json')}`)
