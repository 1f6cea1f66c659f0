import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { AdamW, clipByGlobalNorm } from '../../src/main/engine/optim'
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

describe('clipByGlobalNorm', () => {
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
