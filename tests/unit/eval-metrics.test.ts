import { beforeAll, describe, expect, it } from 'vitest'
import { averagePrecision, meanAveragePrecision, retrievalMetrics, topKAccuracy } from '../../src/main/engine/eval/metrics'
import { l2NormalizeRows, rankRetrieval } from '../../src/main/engine/eval/retrieval'
import { Rng } from '../../src/main/engine/rng'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

describe('retrievalMetrics', () => {
  it('reads recalls and the median from ranks', () => {
    expect(retrievalMetrics([1, 2, 6, 11])).toEqual({ 'R@1': 25, 'R@5': 50, 'R@10': 75, median_rank: 4 })
    expect(retrievalMetrics([3, 1, 2])).toMatchObject({ 'R@1': 100 / 3, median_rank: 2 })
  })
})

describe('averagePrecision (sklearn semantics)', () => {
  it('matches hand-computed cases, ties included', () => {
    // sklearn: average_precision_score([1,0,1,0], [0.9,0.8,0.7,0.1]) = 0.5·1 + 0.5·(2/3) = 0.8333…
    expect(averagePrecision([0.9, 0.8, 0.7, 0.1], [true, false, true, false])).toBeCloseTo(5 / 6, 10)
    // a tie between a positive and a negative at the top enters as one threshold: P = 1/2 at R = 1/2
    expect(averagePrecision([0.9, 0.9, 0.5, 0.1], [true, false, true, false])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 10)
    expect(Number.isNaN(averagePrecision([0.3, 0.2], [false, false]))).toBe(true)
  })
  it('mAP averages over classes with a positive', () => {
    // rows: clip0 [0.9, 0.8, 0], clip1 [0.1, 0.2, 0]; class 2 never positive (skipped)
    const scores = Float32Array.from([0.9, 0.8, 0, 0.1, 0.2, 0])
    expect(meanAveragePrecision(scores, Float32Array.from([1, 1, 0, 0, 0, 0]), 3)).toBeCloseTo(1, 10)
    // class 1's positive (clip1, 0.2) ranks below clip0 (0.8): AP 0.5, so mAP (1 + 0.5) / 2
    expect(meanAveragePrecision(scores, Float32Array.from([1, 0, 0, 0, 1, 0]), 3)).toBeCloseTo(0.75, 10)
  })
  it('top-k accuracy counts ties against the true class', () => {
    const scores = Float32Array.from([0.5, 0.5, 0.1, 0.9, 0.2, 0.3])
    // clip0 (label 0) ties with class 1; clip1 (label 1, 0.2) has 0.9 and 0.3 above it
    expect(topKAccuracy(scores, [0, 1], 3, 1)).toBe(0)
    expect(topKAccuracy(scores, [0, 1], 3, 2)).toBe(50)
    expect(topKAccuracy(scores, [0, 1], 3, 3)).toBe(100)
  })
})

describe('rankRetrieval', () => {
  it('equals a naive N×N reference on random embeddings, with duplicates for ties', () => {
    const rng = new Rng(3)
    const n = 300
    const d = 8
    const raw = Float32Array.from({ length: n * d }, () => rng.normal())
    const q = l2NormalizeRows(raw, d)
    const gRaw = Float32Array.from({ length: n * d }, (_, i) => raw[i] + 0.8 * rng.normal())
    gRaw.set(gRaw.subarray(0, d), 5 * d) // gallery 5 duplicates gallery 0: exact ties
    const g = l2NormalizeRows(gRaw, d)
    const got = rankRetrieval(q, g, d, 10, 64) // small blocks: several block boundaries
    for (let i = 0; i < n; i++) {
      const sims = Array.from({ length: n }, (_, j) => {
        let s = 0
        for (let k = 0; k < d; k++) s += q[i * d + k] * g[j * d + k]
        return s
      })
      // the same float32 products as the matMul, compared with a tolerance for summation order
      const truth = sims[i]
      const above = sims.filter((s, j) => j !== i && s > truth + 1e-6).length
      const close = sims.filter((s, j) => j !== i && Math.abs(s - truth) <= 1e-6).length
      expect(got.ranks[i]).toBeGreaterThanOrEqual(above + 1)
      expect(got.ranks[i]).toBeLessThanOrEqual(above + 1 + close)
      const best = sims.map((s, j) => [s, j]).sort((a, b) => b[0] - a[0])[0]
      expect(sims[got.topK[i * 10]]).toBeCloseTo(best[0], 5)
    }
  })
})
