/**
 * Where a `tiny` training step spends its time: tf.profile's kernel times summed by kernel name, the
 * matmul share (MatMul / BatchMatMul / _FusedMatMul / nn/batchMatMul's sliced products) against the rest, and the time outside any kernel
 * (JavaScript: tape bookkeeping and host reads), plus the collation
 * of the batch (augmentations) that precedes every step. Medians over `rounds` profiled steps.
 * Usage: tsx bench/profile.ts <backend> <objective> [rounds]; prints one JSON line. Invoked by bench/run.ts.
 */
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src/main/engine/backend'
import { PRESETS } from '../src/main/engine/config'
import { createParams } from '../src/main/engine/model'
import { AdamW } from '../src/main/engine/optim'
import { SLICED_MAT_MUL } from '../src/main/engine/nn/batchMatMul'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../src/main/engine/losses'
import { batchTensors, trainStep } from '../src/main/engine/train/step'
import { collateBatch } from '../src/main/engine/train/views'
import { syntheticClip } from '../src/main/engine/train/synthetic'
import { derivedRng } from '../src/main/engine/train/data-source'
import type { Objective } from '../src/main/engine/types'
import { median } from './median'

const MATMUL_KERNELS = new Set(['MatMul', 'BatchMatMul', '_FusedMatMul', SLICED_MAT_MUL])

export interface StepProfile {
  objective: Objective
  step_ms: number
  kernel_ms: number
  matmul_ms: number
  /** step time outside any kernel: JavaScript between kernels, host reads, copies */
  outside_kernels_ms: number
  matmul_share: number
  collate_ms: number
  /** GFLOP of the step's matmuls and the rate they ran at */
  matmul_gflop: number
  matmul_gflops: number
  /** the matmul shapes that took longest: ms per step, calls per step */
  matmul_shapes: Record<string, { ms: number; calls: number }>
  /** kernel name → median ms per step, largest first */
  kernels: Record<string, { ms: number; calls: number }>
}

export async function profileStep(objective: Objective, rounds: number): Promise<StepProfile> {
  const tiny = PRESETS.tiny
  const batchSize = 16
  const clips = Array.from({ length: batchSize }, (_, i) => syntheticClip(i, 0, tiny))
  const collate = (i: number): ReturnType<typeof collateBatch> => collateBatch(clips, derivedRng(0, 'step', i), tiny)
  const inputs = batchTensors(collate(0), tiny)
  const params = createParams(tiny, 0)
  const opt = new AdamW(params, { weightDecay: 1e-5 })
  const settings = { objective, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 0.01, lr: 1e-4 }
  trainStep(params, opt, tiny, inputs, settings) // warm-up

  const steps: number[] = []
  const collates: number[] = []
  const perKernel = new Map<string, { ms: number[]; calls: number }>()
  const matmulFlops: number[] = []
  const shapes = new Map<string, { ms: number; calls: number }>() // summed over the rounds
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now()
    collate(r + 1)
    collates.push(performance.now() - t0)
    t0 = performance.now()
    const info = await tf.profile(() => {
      trainStep(params, opt, tiny, inputs, settings)
    })
    steps.push(performance.now() - t0)
    const sums = new Map<string, { ms: number; calls: number }>()
    for (const k of info.kernels) {
      // composite ops (customGrad's 'unnamed scope', '…__op') also appear with the kernels they run: count only kernels
      if (!tf.getKernel(k.name, tf.getBackend())) continue
      if (MATMUL_KERNELS.has(k.name)) {
        const [[m, kk], [, p]] = k.inputShapes.map((sh) => sh.slice(-2))
        const batch = k.inputShapes[0].slice(0, -2).reduce((x, y) => x * y, 1)
        matmulFlops[r] = (matmulFlops[r] ?? 0) + 2 * batch * m * kk * p
        const key = `${batch > 1 ? batch + '×' : ''}${m}×${kk}·${kk}×${p}`
        const g = shapes.get(key) ?? { ms: 0, calls: 0 }
        g.ms += k.kernelTimeMs as number
        g.calls++
        shapes.set(key, g)
      }
      const s = sums.get(k.name) ?? { ms: 0, calls: 0 }
      s.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
      s.calls++
      sums.set(k.name, s)
    }
    for (const [name, s] of sums) {
      const acc = perKernel.get(name) ?? { ms: [], calls: s.calls }
      acc.ms.push(s.ms)
      perKernel.set(name, acc)
    }
  }
  const kernels = [...perKernel].map(([name, k]) => [name, { ms: median(k.ms), calls: k.calls }] as const).sort((a, b) => b[1].ms - a[1].ms)
  const kernelMs = kernels.reduce((s, [, k]) => s + k.ms, 0)
  const matmulMs = kernels.filter(([n]) => MATMUL_KERNELS.has(n)).reduce((s, [, k]) => s + k.ms, 0)
  const stepMs = median(steps)
  tf.dispose([...params.values()])
  opt.dispose()
  tf.dispose(Object.values(inputs))
  const round = (x: number): number => Math.round(x * 10) / 10
  return {
    objective,
    step_ms: round(stepMs),
    kernel_ms: round(kernelMs),
    matmul_ms: round(matmulMs),
    outside_kernels_ms: round(stepMs - kernelMs),
    matmul_share: Math.round((matmulMs / stepMs) * 1000) / 1000,
    collate_ms: round(median(collates)),
    matmul_gflop: round(matmulFlops[0] / 1e9),
    matmul_gflops: round(matmulFlops[0] / 1e6 / matmulMs),
    matmul_shapes: Object.fromEntries(
      [...shapes]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 12)
        .map(([key, g]) => [key, { ms: round(g.ms / rounds), calls: g.calls / rounds }])
    ),
    kernels: Object.fromEntries(kernels.map(([n, k]) => [n, { ms: round(k.ms), calls: k.calls }]))
  }
}

if (process.argv[1]?.endsWith('profile.ts')) {
  const [backendName = 'wasm', objective = 'equiav', rounds = '3'] = process.argv.slice(2)
  await initBackend(backendName)
  process.stdout.write(JSON.stringify(await profileStep(objective as Objective, Number(rounds))) + '\n')
}
