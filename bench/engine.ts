/**
 * Engine benchmark sections, one backend per process (invoked by bench/run.ts; medians after a warm-up):
 *  --steps K [--objective O]  wall and CPU ms per `tiny` training step (batch 16) and the tensors left behind per 1000 steps
 *  --matmul                   GFLOP/s of a 2048² matMul
 *  --embed                    clips/s of the `tiny` centroid embedding (forwardFeat, batch 16), one thread
 *  --base-forwards N          ms per `base` pretraining forward and embedding forward at batch 1, and the
 *                             GFLOP of their matmuls
 *  --micro                    the audio patch cut by the backend's stock Transpose against the engine's, and one audio
 *                             attention's batched products by tf.matMul against nn/batchMatMul
 * Usage: tsx bench/engine.ts --backend wasm [sections]; prints one JSON line.
 */
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { describeBackend, initBackend } from '../src/main/engine/backend'
import { PRESETS } from '../src/main/engine/config'
import { createParams, forwardFeat, forwardPretrain } from '../src/main/engine/model'
import { AdamW } from '../src/main/engine/optim'
import { stockKernel } from '../src/main/engine/wasm-kernels'
import { batchMatMul } from '../src/main/engine/nn/batchMatMul'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../src/main/engine/losses'
import { batchTensors, trainStep } from '../src/main/engine/train/step'
import { collateBatch } from '../src/main/engine/train/views'
import { syntheticClip } from '../src/main/engine/train/synthetic'
import { derivedRng } from '../src/main/engine/train/data-source'
import type { Objective } from '../src/main/engine/types'
import { median } from './median'

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    objective: { type: 'string', default: 'equiav' },
    steps: { type: 'string', default: '0' },
    matmul: { type: 'boolean', default: false },
    embed: { type: 'boolean', default: false },
    'base-forwards': { type: 'string', default: '0' },
    micro: { type: 'boolean', default: false }
  }
})
const round = (x: number): number => Math.round(x * 10) / 10

/** Median ms of `f` over `reps` runs after one warm-up run. */
function timeIt(f: () => void, reps: number): { median: number; runs: number[] } {
  f()
  const runs: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    f()
    runs.push(performance.now() - t0)
  }
  return { median: round(median(runs)), runs: runs.map(Math.round) }
}

/** Median ms of each way, the ways alternating in one loop so that load on the machine affects them alike. */
function compareWays<K extends string>(ways: Record<K, () => void>, reps = 5): Record<K, number> {
  const names = Object.keys(ways) as K[]
  const times = new Map<K, number[]>(names.map((k) => [k, []]))
  for (let i = 0; i <= reps; i++) {
    for (const way of names) {
      const t0 = performance.now()
      ways[way]()
      if (i > 0) times.get(way)!.push(performance.now() - t0) // the first round is the warm-up
    }
  }
  return Object.fromEntries(names.map((k) => [k, round(median(times.get(k)!))])) as Record<K, number>
}

const info = await initBackend(opt.backend)
const result: Record<string, unknown> = { backend: describeBackend(info) }
const tiny = PRESETS.tiny
const batchSize = 16
const clips = Array.from({ length: batchSize }, (_, i) => syntheticClip(i, 0, tiny))
const inputs = batchTensors(collateBatch(clips, derivedRng(0, 'step', 0), tiny), tiny)
const params = createParams(tiny, 0)

const steps = Number(opt.steps)
if (steps > 0) {
  const optimizer = new AdamW(params, { weightDecay: 1e-5 })
  const objective = opt.objective as Objective
  const settings = { objective, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 0.01, lr: 1e-4 }
  trainStep(params, optimizer, tiny, inputs, settings) // warm-up: kernels compiled, memory allocated
  const before = tf.memory().numTensors
  const times: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < steps; i++) {
    const [t0, c0] = [performance.now(), process.cpuUsage()]
    trainStep(params, optimizer, tiny, inputs, settings)
    times.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
  }
  result.step = {
    objective,
    batch: batchSize,
    ms: round(median(times)),
    cpu_ms: round(median(cpu)),
    runs: times.map(Math.round),
    tensors_growth_per_1000_steps: ((tf.memory().numTensors - before) / steps) * 1000
  }
}

if (opt.matmul) {
  const n = 2048
  const [x, y] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])]
  const t = timeIt(() => tf.matMul(x, y).dispose(), 3)
  result.matmul = { size: n, ms: t.median, gflops: round((2 * n ** 3) / t.median / 1e6) }
  tf.dispose([x, y])
}

if (opt.embed) {
  const t = timeIt(() => {
    tf.tidy(() => {
      const f = forwardFeat(params, tiny, inputs.a, inputs.v, inputs.tAList, inputs.tVList)
      f.zA.dataSync()
      f.zV.dataSync()
    })
  }, 3)
  result.embed = { batch: batchSize, ms: t.median, clips_per_s: round((batchSize * 1000) / t.median) }
}

if (opt.micro) {
  const { audioLength: T, numMelBins: F, patchSize: p } = tiny
  const grid = tf.randomNormal([2 * batchSize, 3, T / p, p, F / p, p]) // original + augmented views
  const perm = [0, 4, 2, 1, 5, 3]
  const stock = stockKernel(tf.Transpose)
  if (stock) {
    const backend = tf.backend()
    const stockCut = (): void => {
      const out = stock.kernelFunc({ inputs: { x: grid }, attrs: { perm }, backend }) as tf.TensorInfo
      backend.disposeData(out.dataId)
    }
    const cut = compareWays({ stock: stockCut, engine: () => tf.dispose(tf.transpose(grid, perm)) })
    result.patchify_audio_ms = { shape: grid.shape, ...cut, speedup: round(cut.stock / cut.engine) }
  }
  grid.dispose()

  // one audio self-attention's score and mixing products, forward and backward, at the tiny batch
  const tokens = (tiny.audioLength / tiny.patchSize) * (tiny.numMelBins / tiny.patchSize)
  const [heads, hd] = [tiny.numHeads, tiny.embedDim / tiny.numHeads]
  const q = tf.randomNormal([batchSize, heads, tokens, hd])
  const kT = tf.randomNormal([batchSize, heads, hd, tokens])
  const v = tf.randomNormal([batchSize, heads, tokens, hd])
  const products = (mm: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (): void =>
    tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(mm(tf.softmax(mm(a, b)), c)))([q, kT, v]))
  const att = compareWays({ matMul: products((a, b) => tf.matMul(a, b)), batchMatMul: products(batchMatMul) })
  result.attention_products_ms = { q: q.shape, ...att, speedup: round(att.matMul / att.batchMatMul) }
  tf.dispose([q, kT, v])
}

/** GFLOP of the matmuls `f` runs, counted from the kernels' input shapes (one profiled run). */
async function matmulGflop(f: () => void): Promise<number> {
  const info = await tf.profile(f)
  let flops = 0
  for (const k of info.kernels) {
    if (k.name !== 'BatchMatMul' && k.name !== 'MatMul' && k.name !== '_FusedMatMul') continue
    const [[m, kk], [, p]] = k.inputShapes.map((sh) => sh.slice(-2))
    flops += 2 * k.inputShapes[0].slice(0, -2).reduce((x, y) => x * y, 1) * m * kk * p
  }
  return flops / 1e9
}

const baseRuns = Number(opt['base-forwards'])
if (baseRuns > 0) {
  // the pretraining forward (original and augmented views through both encoders) and the embedding
  // forward (forwardFeat: original views, centroid of S predictions), batch 1, with their matmul GFLOP
  const base = PRESETS.base
  const baseParams = createParams(base, 0)
  const b = batchTensors(collateBatch([syntheticClip(0, 0, base)], derivedRng(0, 'step', 0), base), base)
  const ways = {
    base_forward_ms: (): void =>
      tf.tidy(() => {
        const out = forwardPretrain(baseParams, base, b, 'equiav')
        out.zAInv.dataSync()
        out.zVAug?.dataSync()
      }),
    base_embed_ms: (): void =>
      tf.tidy(() => {
        const f = forwardFeat(baseParams, base, b.a, b.v, b.tAList, b.tVList)
        f.zA.dataSync()
        f.zV.dataSync()
      })
  }
  for (const [key, f] of Object.entries(ways)) {
    const gflop = await matmulGflop(f) // also the warm-up
    const t = timeIt(f, baseRuns)
    result[key] = { batch: 1, ...t, matmul_gflop: round(gflop), matmul_gflops_at_this_time: round(gflop / (t.median / 1000)) }
  }
}
process.stdout.write(JSON.stringify(result) + '\n')
