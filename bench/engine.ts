/**
 * Engine benchmark, one backend per process: ms per `tiny` training step, ms per `base` forward
 * (batch 1), the audio patch cut of an EquiAV `tiny` batch by the backend's Transpose against
 * nn/permute, and one audio attention's batched products by tf.matMul against nn/batchMatMul; medians over repeated runs after a warm-up. Invoked by bench/run.ts.
 * Usage: tsx bench/engine.ts <backend> <tinySteps> <baseForwards>
 */
import * as tf from '@tensorflow/tfjs'
import { describeBackend, initBackend } from '../src/main/engine/backend'
import { PRESETS } from '../src/main/engine/config'
import { createParams, forwardPretrain } from '../src/main/engine/model'
import { AdamW } from '../src/main/engine/optim'
import { permute } from '../src/main/engine/nn/permute'
import { batchMatMul } from '../src/main/engine/nn/batchMatMul'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../src/main/engine/losses'
import { batchTensors, trainStep } from '../src/main/engine/train/step'
import { collateBatch } from '../src/main/engine/train/views'
import { syntheticClip } from '../src/main/engine/train/synthetic'
import { derivedRng } from '../src/main/engine/train/data-source'

const [backendName, tinyStepsArg = '5', baseArg = '2'] = process.argv.slice(2)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const info = await initBackend(backendName)
const result: Record<string, unknown> = { backend: describeBackend(info) }

const tiny = PRESETS.tiny
const batchSize = 16
const clips = Array.from({ length: batchSize }, (_, i) => syntheticClip(i, 0, tiny))
const inputs = batchTensors(collateBatch(clips, derivedRng(0, 'step', 0), tiny), tiny)
const params = createParams(tiny, 0)
const opt = new AdamW(params, { weightDecay: 1e-5 })
const settings = { objective: 'equiav' as const, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 0.01, lr: 1e-4 }
const tinySteps = Number(tinyStepsArg)
if (tinySteps > 0) {
  trainStep(params, opt, tiny, inputs, settings) // warm-up: kernels compiled, memory allocated
  const times: number[] = []
  for (let i = 0; i < tinySteps; i++) {
    const t0 = performance.now()
    trainStep(params, opt, tiny, inputs, settings)
    times.push(performance.now() - t0)
  }
  result.tiny_train_step_ms = { batch: batchSize, median: median(times), runs: times.map(Math.round) }
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
  return Object.fromEntries(names.map((k) => [k, median(times.get(k)!)])) as Record<K, number>
}

{
  const { audioLength: T, numMelBins: F, patchSize: p } = tiny
  const grid = tf.randomNormal([2 * batchSize, 3, T / p, p, F / p, p]) // original + augmented views
  const perm = [0, 4, 2, 1, 5, 3]
  const { transpose, permute: permuted } = compareWays({ transpose: () => tf.dispose(tf.transpose(grid, perm)), permute: () => tf.dispose(permute(grid, perm)) })
  result.patchify_audio_ms = { shape: grid.shape, transpose, permute: permuted, speedup: transpose / permuted }
  grid.dispose()
}

{
  // one audio self-attention's score and mixing products, forward and backward, at the tiny batch
  const tokens = (tiny.audioLength / tiny.patchSize) * (tiny.numMelBins / tiny.patchSize)
  const [heads, hd] = [tiny.numHeads, tiny.embedDim / tiny.numHeads]
  const q = tf.randomNormal([batchSize, heads, tokens, hd])
  const kT = tf.randomNormal([batchSize, heads, hd, tokens])
  const v = tf.randomNormal([batchSize, heads, tokens, hd])
  const products = (mm: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (): void =>
    tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(mm(tf.softmax(mm(a, b)), c)))([q, kT, v]))
  const { matMul, batchMatMul: sliced } = compareWays({ matMul: products((a, b) => tf.matMul(a, b)), batchMatMul: products(batchMatMul) })
  result.attention_products_ms = { q: q.shape, matMul, batchMatMul: sliced, speedup: matMul / sliced }
  tf.dispose([q, kT, v])
}

const baseRuns = Number(baseArg)
if (baseRuns > 0) {
  const base = PRESETS.base
  const baseParams = createParams(base, 0)
  const baseInputs = batchTensors(collateBatch([syntheticClip(0, 0, base)], derivedRng(0, 'step', 0), base), base)
  const times: number[] = []
  for (let i = 0; i <= baseRuns; i++) {
    const t0 = performance.now()
    tf.tidy(() => {
      const out = forwardPretrain(baseParams, base, baseInputs, 'equiav')
      out.zAInv.dataSync()
      out.zVAug?.dataSync()
    })
    if (i > 0) times.push(performance.now() - t0) // the first run is the warm-up
  }
  result.base_forward_ms = { batch: 1, median: median(times), runs: times.map(Math.round) }
}
process.stdout.write(JSON.stringify(result) + '\n')
