/**
 * The nn building blocks against independent references: finite differences for every gradient,
 * closed forms and naive loop implementations for values.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { gelu, quickGelu } from '../../src/main/engine/nn/activations'
import { crossAttention, selfAttention } from '../../src/main/engine/nn/attention'
import { layerNorm } from '../../src/main/engine/nn/layerNorm'
import { columnSums, linear, residualAdd, weightGrad } from '../../src/main/engine/nn/linear'
import { batchMatMul } from '../../src/main/engine/nn/batchMatMul'
import { Rng } from '../../src/main/engine/rng'
import { sinCosPosEmbed } from '../../src/main/engine/model/posEmbed'
import { useTestBackend } from '../helpers/tf'

type Fn = (...xs: tf.Tensor[]) => tf.Tensor

let seedCounter = 1
function rand(shape: number[], scale = 1): tf.Tensor {
  const rng = new Rng(seedCounter++)
  const n = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal() * scale), shape)
}

/**
 * Central differences of L = Σ f(xs)·R (R fixed, random; L summed in float64 on the host) against tf.grads,
 * for every element of every input. Float32 forward passes, so h = 1e-2 with a mixed tolerance.
 */
function expectGradientsMatchFiniteDifferences(f: Fn, xs: tf.Tensor[], h = 1e-2, tol = 3e-3): void {
  const probe = f(...xs)
  const r = rand(probe.shape)
  const rHost = r.dataSync()
  probe.dispose()
  const hostLoss = (ys: tf.Tensor[]): number => {
    const out = f(...ys)
    const v = out.dataSync()
    out.dispose()
    let s = 0
    for (let i = 0; i < v.length; i++) s += v[i] * rHost[i]
    return s
  }
  const analytic = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)))(xs)
  xs.forEach((x, i) => {
    const base = x.dataSync().slice()
    const got = analytic[i].dataSync()
    for (let j = 0; j < base.length; j++) {
      const shifted = (delta: number): number => {
        const data = base.slice()
        data[j] += delta
        const xi = tf.tensor(data, x.shape)
        const v = hostLoss(xs.map((y, k) => (k === i ? xi : y)))
        xi.dispose()
        return v
      }
      const numeric = (shifted(h) - shifted(-h)) / (2 * h)
      expect(Math.abs(got[j] - numeric), `input ${i} element ${j}: analytic ${got[j]} vs numeric ${numeric}`).toBeLessThan(
        tol + 2e-2 * Math.abs(numeric)
      )
    }
  })
  tf.dispose([r, analytic])
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol)
}

/** Naive multi-head attention on host arrays: q [S, H·hd], k/v [N, H·hd] for one batch element → [S, H·hd]. */
function naiveAttention(q: number[][], k: number[][], v: number[][], heads: number): number[][] {
  const hd = q[0].length / heads
  return q.map((qs) => {
    const out: number[] = []
    for (let h = 0; h < heads; h++) {
      const scores = k.map((kn) => {
        let s = 0
        for (let d = 0; d < hd; d++) s += qs[h * hd + d] * kn[h * hd + d]
        return s / Math.sqrt(hd)
      })
      const mx = Math.max(...scores)
      const e = scores.map((s) => Math.exp(s - mx))
      const z = e.reduce((a, b) => a + b, 0)
      for (let d = 0; d < hd; d++) out.push(e.reduce((acc, en, n) => acc + (en / z) * v[n][h * hd + d], 0))
    }
    return out
  })
}

/** rows of x [R, I] times w [I, O] plus b, on host arrays */
function naiveLinear(x: number[][], w: number[][], b?: number[]): number[][] {
  return x.map((row) => w[0].map((_, o) => row.reduce((acc, xi, i) => acc + xi * w[i][o], b ? b[o] : 0)))
}

describe('nn building blocks', () => {
  beforeAll(async () => {
    await useTestBackend()
  })

  it('seeded RNG is deterministic and roughly standard', () => {
    const a = new Rng(7)
    const b = new Rng(7)
    const xs = Array.from({ length: 20000 }, () => a.normal())
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.normal()))
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
    expect(new Rng(8).uniform()).not.toBe(new Rng(7).uniform())
  })

  it('linear: values, finite-difference gradients, and agreement with stock matMul gradients (2-D and 3-D input)', () => {
    const w = rand([4, 3])
    const b = rand([3])
    const x3 = rand([2, 2, 4])
    const want = naiveLinear(x3.reshape([4, 4]).arraySync() as number[][], w.arraySync() as number[][], b.arraySync() as number[])
    expectClose(linear(x3, w, b).dataSync(), want.flat(), 1e-5)
    expectGradientsMatchFiniteDifferences((x, w2, b2) => linear(x, w2, b2), [x3, w, b])

    const x2 = rand([5, 4])
    const r = rand([5, 3])
    const ours = tf.grads((x: tf.Tensor, w2: tf.Tensor) => tf.sum(tf.mul(linear(x, w2), r)))([x2, w])
    const stock = tf.grads((x: tf.Tensor, w2: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, w2 as tf.Tensor2D), r)))([x2, w])
    expectClose(ours[0].dataSync(), stock[0].dataSync(), 1e-5)
    expectClose(ours[1].dataSync(), stock[1].dataSync(), 1e-5)
  })

  it('linear of data: the same values and W, b gradients (finite differences, and equal to a linear of x), and no gradient for x', () => {
    const x = rand([2, 3, 4])
    const w = rand([4, 5])
    const b = rand([5])
    const ofData: Fn = (w2, b2) => linear(x, w2, b2, { inputIsData: true })
    expect(Array.from(ofData(w, b).dataSync())).toEqual(Array.from(linear(x, w, b).dataSync()))
    expectGradientsMatchFiniteDifferences(ofData, [w, b])
    const r = rand([2, 3, 5])
    const [dw, db] = tf.grads((w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(ofData(w2, b2), r)))([w, b])
    const [, dwAll, dbAll] = tf.grads((x2: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(linear(x2, w2, b2), r)))([x, w, b])
    expect(Array.from(dw.dataSync())).toEqual(Array.from(dwAll.dataSync()))
    expect(Array.from(db.dataSync())).toEqual(Array.from(dbAll.dataSync()))
    // x is not an input of the op: backprop has no path to it
    expect(() => tf.grads((x2: tf.Tensor) => tf.sum(linear(x2, w, b, { inputIsData: true })))([x])).toThrow(/Cannot compute gradient/)
  })

  it('weightGrad: xᵀ·dy (a naive loop), and the same bits whichever side is transposed', () => {
    for (const [rows, inDim, outDim] of [[37, 9, 5], [37, 5, 9], [300, 70, 13]]) {
      const x = rand([rows, inDim]) as tf.Tensor2D
      const dy = rand([rows, outDim]) as tf.Tensor2D
      const xs = x.arraySync()
      const ds = dy.arraySync()
      const naive = Array.from({ length: inDim }, (_, i) => Array.from({ length: outDim }, (_, j) => xs.reduce((s, r, k) => s + r[i] * ds[k][j], 0)))
      const got = weightGrad(x, dy)
      expectClose(got.dataSync(), naive.flat(), 1e-4)
      const direct = tf.matMul(tf.transpose(x), dy)
      const swapped = tf.transpose(tf.matMul(tf.transpose(dy), x))
      expect(Array.from(got.dataSync())).toEqual(Array.from(direct.dataSync()))
      expect(Array.from(swapped.dataSync())).toEqual(Array.from(direct.dataSync()))
    }
  })

  it('columnSums: the sum of each column (a naive loop), and its finite-difference gradient', () => {
    const x = rand([7, 5])
    const rows = x.arraySync() as number[][]
    expectClose(columnSums(x as tf.Tensor2D).dataSync(), [0, 1, 2, 3, 4].map((j) => rows.reduce((s, r) => s + r[j], 0)), 1e-5)
    expectGradientsMatchFiniteDifferences((a) => columnSums(a as tf.Tensor2D), [x])
  })

  it('linear with an intermediate weight (a slice of a fused one, disposed by its tidy before backprop): finite-difference gradients', () => {
    const x = rand([2, 3, 4])
    const fused = rand([4, 6])
    const b = rand([6])
    const sliced = (weightIsIntermediate: boolean): Fn => (xx, wf, bf) =>
      tf.tidy(() => linear(xx, tf.slice(wf, [0, 3], [4, 3]), tf.slice(bf, [3], [3]), { weightIsIntermediate }))
    expectGradientsMatchFiniteDifferences(sliced(true), [x, fused, b])
    // the case is real: reading the disposed slice from the closure fails (the backend has dropped its data)
    expect(() => tf.grads(sliced(false))([x, fused, b])).toThrow()
  })

  it('batchMatMul: a naive triple loop per batch (rank 3 and 4), and finite-difference gradients for both inputs', () => {
    const [lead, m, k, p] = [[2, 3], 4, 5, 3]
    const [a, b] = [rand([...lead, m, k]), rand([...lead, k, p])]
    const [ad, bd] = [a.dataSync(), b.dataSync()]
    const want = new Float64Array(6 * m * p)
    for (let n = 0; n < 6; n++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < p; j++) {
          for (let t = 0; t < k; t++) want[(n * m + i) * p + j] += ad[(n * m + i) * k + t] * bd[(n * k + t) * p + j]
        }
      }
    }
    const got = batchMatMul(a, b)
    expect(got.shape).toEqual([...lead, m, p])
    expectClose(got.dataSync(), Float32Array.from(want), 1e-5)
    expectClose(batchMatMul(a.reshape([6, m, k]), b.reshape([6, k, p])).dataSync(), Float32Array.from(want), 1e-5)
    expectGradientsMatchFiniteDifferences((x, y) => batchMatMul(x, y), [rand([2, 3, 2]), rand([2, 2, 4])])
  })

  it('residualAdd: sum and finite-difference gradients for both inputs', () => {
    const [a, b] = [rand([2, 3]), rand([2, 3])]
    expect(residualAdd(a, b).dataSync()).toEqual(tf.add(a, b).dataSync())
    expectGradientsMatchFiniteDifferences((x, y) => residualAdd(tf.square(x), y), [a, b])
  })

  it('layerNorm: hand-computed values and finite-difference gradients', () => {
    // [1,2,3,4]: mean 2.5, biased variance 1.25
    const y = layerNorm(tf.tensor([[1, 2, 3, 4]]), tf.tensor([1, 2, 1, 1]), tf.tensor([0, 0, 0, 1]), 1e-5)
    const s = 1 / Math.sqrt(1.25 + 1e-5)
    expectClose(y.dataSync(), [-1.5 * s, 2 * -0.5 * s, 0.5 * s, 1.5 * s + 1], 1e-5)
    expectGradientsMatchFiniteDifferences((x, g, bb) => layerNorm(x, g, bb, 1e-5), [rand([2, 3, 5]), rand([5]), rand([5])])
  })

  it('GELU (exact, erf) and QuickGELU: closed-form values and gradients', () => {
    // Φ(1) = 0.8413447460685429, Φ(−1) = 0.15865525393145707, Φ(2) = 0.9772498680518208
    expectClose(gelu(tf.tensor([0, 1, -1, 2])).dataSync(), [0, 0.8413447460685429, -0.15865525393145707, 2 * 0.9772498680518208], 1e-6)
    const sig = (z: number): number => 1 / (1 + Math.exp(-z))
    expectClose(quickGelu(tf.tensor([1, -2])).dataSync(), [sig(1.702), -2 * sig(-3.404)], 1e-6)
    expectGradientsMatchFiniteDifferences((x) => gelu(x), [rand([3, 4], 1.5)])
    expectGradientsMatchFiniteDifferences((x) => quickGelu(x), [rand([3, 4], 1.5)])
  })

  it('self-attention matches a naive per-head implementation, with finite-difference gradients', () => {
    const heads = 2
    const x = rand([2, 3, 4])
    const qkvW = rand([4, 12], 0.5)
    const qkvB = rand([12], 0.1)
    const projW = rand([4, 4], 0.5)
    const projB = rand([4], 0.1)
    const f: Fn = (xx, a, bq, c, d) => selfAttention(xx as tf.Tensor3D, { qkvWeight: a, qkvBias: bq, projWeight: c, projBias: d }, heads)
    const got = f(x, qkvW, qkvB, projW, projB).arraySync() as number[][][]
    ;(x.arraySync() as number[][][]).forEach((xb, bi) => {
      const qkv = naiveLinear(xb, qkvW.arraySync() as number[][], qkvB.arraySync() as number[])
      const [q, k, v] = [0, 1, 2].map((part) => qkv.map((row) => row.slice(part * 4, part * 4 + 4)))
      const want = naiveLinear(naiveAttention(q, k, v, heads), projW.arraySync() as number[][], projB.arraySync() as number[])
      expectClose(got[bi].flat(), want.flat(), 1e-5)
    })
    expectGradientsMatchFiniteDifferences(f, [x, qkvW, qkvB, projW, projB])
  })

  it('cross-attention matches a naive implementation (bias-free output), with finite-difference gradients', () => {
    const [heads, headDim] = [2, 3]
    const query = rand([2, 2, 3])
    const tokens = rand([2, 4, 5])
    const ws = [rand([3, 6], 0.5), rand([6], 0.1), rand([5, 6], 0.5), rand([6], 0.1), rand([5, 6], 0.5), rand([6], 0.1), rand([6, 5], 0.5)]
    const f: Fn = (qq, tt, qW, qB, kW, kB, vW, vB, oW) =>
      crossAttention(qq as tf.Tensor3D, tt as tf.Tensor3D, { qWeight: qW, qBias: qB, kWeight: kW, kBias: kB, vWeight: vW, vBias: vB, outWeight: oW }, heads, headDim)
    const got = f(query, tokens, ...ws).arraySync() as number[][][]
    const host = ws.map((w) => w.arraySync()) as [number[][], number[], number[][], number[], number[][], number[], number[][]]
    ;(query.arraySync() as number[][][]).forEach((qb, bi) => {
      const tb = (tokens.arraySync() as number[][][])[bi]
      const attn = naiveAttention(naiveLinear(qb, host[0], host[1]), naiveLinear(tb, host[2], host[3]), naiveLinear(tb, host[4], host[5]), heads)
      expectClose(got[bi].flat(), naiveLinear(attn, host[6]).flat(), 1e-5)
    })
    expectGradientsMatchFiniteDifferences(f, [query, tokens, ...ws])
  })

  it('sin-cos position embedding: closed-form entries in the MAE layout', () => {
    // D = 8 → ω = [1, 10000^(−1/2)]; 2 rows × 3 columns; token (r=1, c=2) is index 5
    const pe = sinCosPosEmbed(8, 2, 3)
    expect(pe.length).toBe(6 * 8)
    const row = Array.from(pe.subarray(5 * 8, 6 * 8))
    expectClose(row, [Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02), Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)], 1e-7)
    expect(Array.from(pe.subarray(0, 8))).toEqual([0, 0, 1, 1, 0, 0, 1, 1])
    expect(() => sinCosPosEmbed(6, 2, 2)).toThrow(/divisible by 4/)
  })

  it('no tensor leaks over repeated forward + gradient calls', () => {
    const x = rand([2, 3, 4])
    const w = { qkvWeight: rand([4, 12]), qkvBias: rand([12]), projWeight: rand([4, 4]), projBias: rand([4]) }
    const g = rand([4])
    const step = (): void => {
      const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor) =>
        tf.sum(gelu(layerNorm(selfAttention(xx as tf.Tensor3D, w, 2), gg, w.projBias, 1e-5)))
      )([x, g])
      tf.dispose(grads)
    }
    step()
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) step()
    expect(tf.memory().numTensors).toBe(before)
  })
})
