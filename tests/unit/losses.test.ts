import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TAU, equiavLoss, interModalLoss, intraModalEquivariantLoss } from '../../src/main/engine/losses'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

// ---- float64 references written from the formulas of ../shared/EQUIAV.md §3 ----
const normalize = (x: number[]): number[] => {
  const n = Math.max(Math.hypot(...x), 1e-12)
  return x.map((v) => v / n)
}
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0)
const logSumExp = (xs: number[]): number => {
  const m = Math.max(...xs)
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0))
}

function refInter(za: number[][], zv: number[][], tau: number): number {
  const a = za.map(normalize)
  const v = zv.map(normalize)
  const ce = (x: number[][], y: number[][]): number =>
    x.reduce((s, xi, i) => s + logSumExp(y.map((yj) => dot(xi, yj) / tau)) - dot(xi, y[i]) / tau, 0) / x.length
  return (ce(a, v) + ce(v, a)) / 2
}

function refIntra(pred: number[][], actual: number[][], tau: number): number {
  const p = pred.map(normalize)
  const q = actual.map(normalize)
  // anchor x_i: candidates y_1..y_N and x_j (j ≠ i), positive y_i
  const dir = (x: number[][], y: number[][]): number =>
    x.reduce((s, xi, i) => {
      const cands = [...y.map((yj) => dot(xi, yj) / tau), ...x.filter((_, j) => j !== i).map((xj) => dot(xi, xj) / tau)]
      return s + logSumExp(cands) - dot(xi, y[i]) / tau
    }, 0) / x.length
  return (dir(p, q) + dir(q, p)) / 2
}

function randomRows(n: number, d: number, seed: number): number[][] {
  let s = seed
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296 - 0.5
  }
  return Array.from({ length: n }, () => Array.from({ length: d }, next))
}

const t2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows)
const value = (s: tf.Scalar): number => s.dataSync()[0]

describe('interModalLoss', () => {
  it('is ln B when every embedding is the same', () => {
    const same = [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]]
    expect(value(interModalLoss(t2(same), t2(same), 0.07))).toBeCloseTo(Math.log(4), 5)
  })
  it('matches a hand-computed two-clip case', () => {
    // a = v = orthonormal pair: each row's logits are [1/τ, 0] → loss = log(1 + e^{−1/τ})
    const tau = 0.5
    const eye = [[1, 0], [0, 1]]
    expect(value(interModalLoss(t2(eye), t2(eye), tau))).toBeCloseTo(Math.log(1 + Math.exp(-1 / tau)), 6)
  })
  it('matches the float64 reference on random embeddings (unnormalised inputs)', () => {
    const za = randomRows(5, 7, 1).map((r) => r.map((v) => 3 * v))
    const zv = randomRows(5, 7, 2)
    expect(value(interModalLoss(t2(za), t2(zv), DEFAULT_TAU))).toBeCloseTo(refInter(za, zv, DEFAULT_TAU), 4)
  })
})

describe('intraModalEquivariantLoss', () => {
  it('matches a hand-computed two-clip case with 2N−1 = 3 candidates', () => {
    // p = q = orthonormal pair; anchor p_0: candidates q_0 (1/τ), q_1 (0), p_1 (0) → log(1 + 2e^{−1/τ})
    const tau = 0.5
    const eye = [[1, 0], [0, 1]]
    expect(value(intraModalEquivariantLoss(t2(eye), t2(eye), tau))).toBeCloseTo(Math.log(1 + 2 * Math.exp(-1 / tau)), 6)
  })
  it('matches the float64 reference on random embeddings', () => {
    const p = randomRows(6, 5, 3)
    const q = randomRows(6, 5, 4)
    expect(value(intraModalEquivariantLoss(t2(p), t2(q), DEFAULT_TAU))).toBeCloseTo(refIntra(p, q, DEFAULT_TAU), 4)
  })
})

describe('gradients', () => {
  it('match central finite differences (float64 reference losses)', () => {
    const tau = 0.3
    const p = randomRows(3, 4, 5)
    const q = randomRows(3, 4, 6)
    const grad = tf.grad((x: tf.Tensor) => tf.add(intraModalEquivariantLoss(x as tf.Tensor2D, t2(q), tau), interModalLoss(x as tf.Tensor2D, t2(q), tau)))
    const g = grad(t2(p)).arraySync() as number[][]
    const f = (rows: number[][]): number => refIntra(rows, q, tau) + refInter(rows, q, tau)
    const h = 1e-5
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        const plus = p.map((r) => [...r])
        const minus = p.map((r) => [...r])
        plus[i][j] += h
        minus[i][j] -= h
        expect(g[i][j]).toBeCloseTo((f(plus) - f(minus)) / (2 * h), 3)
      }
    }
  })
})

describe('equiavLoss', () => {
  it('weights the three terms and gives zero intra terms for the inter-only objective', () => {
    const rows = (s: number): tf.Tensor2D => t2(randomRows(4, 6, s))
    const out = { zAInv: rows(1), zVInv: rows(2), zAEquiT: rows(3), zAAug: rows(4), zVEquiT: rows(5), zVAug: rows(6) }
    const w = { inter: 0.5, intraA: 0.25, intraV: 2 }
    const terms = equiavLoss(out, w, 0.1)
    const expected = 0.5 * value(terms.inter) + 0.25 * value(terms.intraA) + 2 * value(terms.intraV)
    expect(value(terms.total)).toBeCloseTo(expected, 5)
    const interOnly = equiavLoss({ zAInv: out.zAInv, zVInv: out.zVInv }, w, 0.1)
    expect([value(interOnly.intraA), value(interOnly.intraV)]).toEqual([0, 0])
    expect(value(interOnly.total)).toBeCloseTo(0.5 * value(terms.inter), 6)
  })
})
