import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { AdamW, clipByGlobalNorm, clipScale } from '../../src/main/engine/optim'
import { ShardUpdate } from '../../src/main/engine/train/parallel/shard-update'
import { measureValues, noHealth } from '../../src/main/engine/train/param-health'
import { Rng } from '../../src/main/engine/rng'
import { warmupCosineLr } from '../../src/main/engine/schedule'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

/** torch.optim.AdamW's published update, in float64 */
function referenceAdamW(p0: number[], grads: number[][], lrs: number[], wd: number, b1 = 0.9, b2 = 0.95, eps = 1e-8): number[] {
  const p = [...p0]
  const m = p.map(() => 0)
  const v = p.map(() => 0)
  grads.forEach((g, k) => {
    const t = k + 1
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lrs[k] * wd
      m[i] = b1 * m[i] + (1 - b1) * g[i]
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
      const mHat = m[i] / (1 - b1 ** t)
      const vHat = v[i] / (1 - b2 ** t)
      p[i] -= (lrs[k] * mHat) / (Math.sqrt(vHat) + eps)
    }
  })
  return p
}

describe('AdamW', () => {
  it('follows torch.optim.AdamW for several steps, weight decay on every parameter', () => {
    const p0 = [0.5, -1.5, 2, 0.01]
    const grads = [[0.1, -0.2, 0.3, 0], [1, 0.5, -0.25, 2], [-0.3, 0.3, 0.1, -1]]
    const lrs = [0.1, 0.05, 0.01]
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]])
    const opt = new AdamW(params, { weightDecay: 0.1 })
    grads.forEach((g, k) => opt.step(new Map([['w', tf.tensor1d(g)]]), lrs[k]))
    const got = Array.from(params.get('w')!.dataSync())
    referenceAdamW(p0, grads, lrs, 0.1).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5))
  })

  it('adds eps outside the square root: with gradients around 1e-6 it moves each weight by about lr per step', () => {
    // √v̂ ≈ 1e-6 here, so eps = 1e-8 changes a step by about 1%; eps inside the root (√(v̂ + eps) ≈ 1e-4)
    // would shrink every step a hundredfold, and dropping it would move them by 1% the other way
    const p0 = [0, 0, 0, 0]
    const grads = [[1e-6, -2e-6, 5e-7, 3e-6], [2e-6, -1e-6, 1e-6, 1e-6], [1e-6, -3e-6, -5e-7, 2e-6]]
    const lrs = [1e-3, 1e-3, 1e-3]
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]])
    const opt = new AdamW(params, { weightDecay: 0 })
    grads.forEach((g, k) => opt.step(new Map([['w', tf.tensor1d(g)]]), lrs[k]))
    const got = Array.from(params.get('w')!.dataSync())
    const want = referenceAdamW(p0, grads, lrs, 0)
    const withoutEps = referenceAdamW(p0, grads, lrs, 0, 0.9, 0.95, 0)
    want.forEach((v, i) => {
      expect(Math.abs(v)).toBeGreaterThan(1e-3)
      expect(Math.abs(v - withoutEps[i]) / Math.abs(v)).toBeGreaterThan(2e-3) // eps matters at this scale
      expect(Math.abs(got[i] - v) / Math.abs(v)).toBeLessThan(2e-4)
    })
  })

  it('skips frozen variables and round-trips its state exactly', () => {
    const params = new Map([
      ['w', tf.variable(tf.tensor1d([1, 2, 3]))],
      ['frozen', tf.variable(tf.tensor1d([7]), false)]
    ])
    const opt = new AdamW(params)
    opt.step(new Map([['w', tf.tensor1d([0.1, 0.2, 0.3])], ['frozen', tf.tensor1d([1])]]), 0.01)
    expect(params.get('frozen')!.dataSync()[0]).toBe(7)
    const state = opt.exportState()
    expect([...state.keys()].sort()).toEqual(['m.w', 'step', 'v.w'])

    const twin = new Map([['w', tf.variable(params.get('w')!.clone())], ['frozen', tf.variable(tf.tensor1d([7]), false)]])
    const restored = new AdamW(twin)
    restored.importState(state)
    const g = new Map([['w', tf.tensor1d([-0.5, 0.25, 1])]])
    opt.step(g, 0.02)
    restored.step(g, 0.02)
    expect(Array.from(twin.get('w')!.dataSync())).toEqual(Array.from(params.get('w')!.dataSync()))
  })

  it('keeps the tensor count flat over 50 steps', () => {
    const params = new Map([['w', tf.variable(tf.randomNormal([8, 8]))]])
    const opt = new AdamW(params)
    const step = (): void => {
      const g = new Map([['w', tf.randomNormal([8, 8])]])
      opt.step(g, 1e-3)
      g.forEach((t) => t.dispose())
    }
    step()
    const before = tf.memory().numTensors
    for (let i = 0; i < 50; i++) step()
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('ShardUpdate (the engine workers\' optimiser step on their share, by the engine\'s kernels)', () => {
  it('gives AdamW.step\'s values to the bit over several steps, on two shards, with and without a gradient scale', () => {
    const rng = new Rng(11)
    const n = 4003 // shards that leave SIMD remainders
    const p0 = Float32Array.from({ length: n }, () => rng.normal())
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]])
    const opt = new AdamW(params, { weightDecay: 0.05 })
    const state = { params: Float32Array.from(p0), m: new Float32Array(n), v: new Float32Array(n) }
    // two shards, as two workers would update them, each with its own memory
    const shards = [new ShardUpdate(0, 1501), new ShardUpdate(1501, n - 1501)]
    const steps = [
      { lr: 1e-3, scale: 1 },
      { lr: 5e-4, scale: 0.37 },
      { lr: 2e-4, scale: 1e-3 }
    ]
    steps.forEach(({ lr, scale }, k) => {
      const g = Float32Array.from({ length: n }, () => rng.normal() * 10 ** -rng.randint(0, 6))
      const gTensor = tf.tensor1d(g)
      const scaled = scale === 1 ? gTensor : tf.mul(gTensor, scale)
      opt.step(new Map([['w', scaled]]), lr)
      tf.dispose([gTensor, scaled])
      shards.forEach((shard, w) => {
        const from = w === 0 ? 0 : 1501
        const size = w === 0 ? 1501 : n - 1501
        shard.gradient().set(g.subarray(from, from + size))
        // the shard's one tensor split in two ranges: each range is updated on its own
        shard.apply(state, [{ at: 0, size: 700 }, { at: 700, size: size - 700 }], opt.settings, k + 1, lr, scale)
      })
    })
    const exported = opt.exportState()
    expect(Array.from(state.params)).toEqual(Array.from(params.get('w')!.dataSync()))
    expect(Array.from(state.m)).toEqual(Array.from(exported.get('m.w')!.data))
    expect(Array.from(state.v)).toEqual(Array.from(exported.get('v.w')!.data))
    expect(state.params.some((x, i) => x !== p0[i])).toBe(true)
  })

  it('a tensor longer than one part of the kernels\' memory: the same AdamW values and Σg² as one piece', () => {
    const rng = new Rng(3)
    const n = (1 << 20) + 4099
    const p0 = Float32Array.from({ length: n }, () => rng.normal())
    const g = Float32Array.from({ length: n }, () => rng.normal() * 1e-2)
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]])
    const opt = new AdamW(params)
    opt.step(new Map([['w', tf.tensor1d(g)]]), 1e-3)
    const state = { params: Float32Array.from(p0), m: new Float32Array(n), v: new Float32Array(n) }
    const shard = new ShardUpdate(0, n)
    shard.gradient().set(g)
    shard.apply(state, [{ at: 0, size: n }], opt.settings, 1, 1e-3, 1)
    expect(Array.from(state.params)).toEqual(Array.from(params.get('w')!.dataSync()))
    expect(shard.squares({ at: 0, size: n })).toBe(tf.tidy(() => tf.sum(tf.square(tf.tensor1d(g))).dataSync()[0]))
  })

  it('squares: the backend\'s Square then Sum to the bit; measure: measureValues\' figures, non-finite values counted', () => {
    const rng = new Rng(5)
    const g = Float32Array.from({ length: 999 }, () => rng.normal() * 3)
    const shard = new ShardUpdate(10, 999)
    shard.gradient().set(g)
    const want = tf.tidy(() => tf.sum(tf.square(tf.tensor1d(g.subarray(100, 600)))).dataSync()[0])
    expect(shard.squares({ at: 100, size: 500 })).toBe(want)
    const params = Float32Array.from({ length: 1009 }, () => rng.normal())
    params[20] = NaN
    params[500] = Infinity
    const state = { params, m: new Float32Array(1009), v: new Float32Array(1009) }
    const got = noHealth()
    shard.measure(state, got)
    const expected = noHealth()
    measureValues(expected, params.subarray(10, 1009))
    expect(got).toEqual(expected)
    expect(got.nonFinite).toBe(2)
  })
})

describe('clipByGlobalNorm', () => {
  it('clipScale is min(1, maxNorm / (norm + 1e-6))', () => {
    expect(clipScale(5, 1)).toBeCloseTo(1 / (5 + 1e-6), 12)
    expect(clipScale(5, 10)).toBe(1)
  })

  it('scales by maxNorm / (‖g‖ + 1e-6) over all gradients, and leaves small ones alone', () => {
    const grads = new Map([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]]) // ‖g‖ = 5
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1)
    expect(norm).toBeCloseTo(5, 6)
    const scale = 1 / (5 + 1e-6)
    expect(Array.from(clipped.get('a')!.dataSync())[0]).toBeCloseTo(3 * scale, 6)
    expect(Array.from(clipped.get('b')!.dataSync())[1]).toBeCloseTo(4 * scale, 6)
    const loose = clipByGlobalNorm(grads, 10)
    expect(Array.from(loose.grads.get('b')!.dataSync())).toEqual([0, 4])
    expect(loose.grads.get('b')).toBe(grads.get('b')) // left alone: the same tensor, not a copy
  })
})

describe('warmupCosineLr', () => {
  const s = { baseLr: 1e-4, warmupSteps: 10, totalSteps: 110 }
  it('warms up linearly from 2e-7, then follows a cosine down to 1e-6', () => {
    expect(warmupCosineLr(0, s)).toBeCloseTo(2e-7, 12)
    expect(warmupCosineLr(5, s)).toBeCloseTo(2e-7 + 0.5 * (1e-4 - 2e-7), 12)
    expect(warmupCosineLr(10, s)).toBeCloseTo(1e-4, 12) // end of warm-up: the peak
    expect(warmupCosineLr(60, s)).toBeCloseTo(1e-6 + (1e-4 - 1e-6) * 0.5, 12) // half-way down the cosine
    expect(warmupCosineLr(110, s)).toBeCloseTo(1e-6, 12)
    // the official schedule is only defined up to T_max; on the way down it never dips below the floor
    for (let k = 10; k <= 110; k++) expect(warmupCosineLr(k, s)).toBeGreaterThanOrEqual(1e-6)
  })
})
