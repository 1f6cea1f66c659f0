/** The Runs view's numerics and table logic: chance levels, EMA smoothing, x axes, evaluation sets, filter and sort. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { chanceLevels } from '../../src/shared/loss-chance'
import type { MetricsRow, RunRetrieval, RunSummary } from '../../src/shared/contract'
import { curvePoints, emaSmooth, xValues } from '../../src/renderer/src/lib/curves'
import { chanceMedianRank, chanceRecall, evaluationOn, evaluationSets, type Evaluation } from '../../src/renderer/src/lib/eval-sets'
import { RUN_COLUMNS, type RowContext, matchesFilter, sortRuns } from '../../src/renderer/src/lib/run-columns'

const W = { inter: 1 / 3, intraA: 1 / 3, intraV: 1 / 3 }

describe('chance levels of the loss terms', () => {
  it('are ln B for the inter-modal InfoNCE and ln(2B−1) for the intra-modal NT-Xent, weighted into the total', () => {
    const c = chanceLevels('equiav', 16, W)
    expect(c.loss_inter).toBeCloseTo(2.772588722, 9) // ln 16
    expect(c.loss_intra_a).toBeCloseTo(3.433987204, 9) // ln 31
    expect(c.loss_intra_v).toBeCloseTo(3.433987204, 9)
    expect(c.loss).toBeCloseTo((2.772588722 + 2 * 3.433987204) / 3, 8)
    expect(chanceLevels('invariant', 2, { inter: 1, intraA: 0.5, intraV: 0 })).toEqual({ loss_inter: Math.LN2, loss_intra_a: Math.log(3), loss_intra_v: Math.log(3), loss: Math.LN2 + 0.5 * Math.log(3) })
  })
  it('leave out the intra-modal terms an inter-only run does not train', () => {
    const c = chanceLevels('inter-only', 8, W)
    expect(Object.keys(c).sort()).toEqual(['loss', 'loss_inter'])
    expect(c.loss_inter).toBeCloseTo(Math.log(8), 12)
    expect(c.loss).toBeCloseTo(Math.log(8) / 3, 12)
  })
  it('are what the losses give when every candidate is equally similar (uniform softmax over B and 2B−1)', () => {
    // −log softmax of equal logits over m candidates is ln m: B for inter, B + (B − 1) for intra
    for (const b of [1, 2, 16, 48]) {
      const uniform = (m: number): number => -Math.log(Math.exp(0) / (m * Math.exp(0)))
      const c = chanceLevels('equiav', b, W)
      expect(c.loss_inter).toBeCloseTo(uniform(b), 12)
      expect(c.loss_intra_a).toBeCloseTo(uniform(b + (b - 1)), 12)
    }
  })
  it('refuse a batch size that is not a positive integer', () => {
    expect(() => chanceLevels('equiav', 0, W)).toThrow(/batch size/)
  })
})

describe('EMA smoothing', () => {
  it('is the debiased exponential average: s1 = y1, s2 = (w·y1 + y2)/(1 + w)', () => {
    const [a, b] = emaSmooth([4, 1], 0.5)
    expect(a).toBe(4)
    expect(b).toBeCloseTo((0.5 * 4 + 1) / 1.5, 12)
  })
  it('leaves values alone at weight 0 and a constant series constant at any weight', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 50 }), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true }), (ys, w, c) => {
        emaSmooth(ys, 0).forEach((s, i) => expect(s).toBeCloseTo(ys[i], 12))
        for (const s of emaSmooth(ys.map(() => c), w)) expect(s).toBeCloseTo(c, 9)
      })
    )
  })
  it('refuses a weight outside [0, 1)', () => {
    expect(() => emaSmooth([1], 1)).toThrow(/\[0, 1\)/)
  })
})

const row = (step: number, loss: number, minute: number): MetricsRow => ({ step, epoch: 0, loss, lr: 1e-4, clips_per_s: 1, time: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString() })

describe('curves', () => {
  const rows = [row(1, 3, 0), row(2, 2, 2), row(4, -1, 5)]
  it('put x at the step, the fractional epoch or the minutes since the first row', () => {
    expect(xValues(rows, 'step', 4)).toEqual([1, 2, 4])
    expect(xValues(rows, 'epoch', 4)).toEqual([0.25, 0.5, 1])
    expect(xValues(rows, 'wall-clock', 4)).toEqual([0, 2, 5])
  })
  it('leave out points a log axis cannot draw, before smoothing', () => {
    expect(curvePoints(rows, 'loss', { axis: 'step', smoothing: 0, log: true, stepsPerEpoch: 1 })).toEqual([[1, 3], [2, 2]])
    expect(curvePoints(rows, 'loss', { axis: 'step', smoothing: 0.5, log: false, stepsPerEpoch: 1 })[1][1]).toBeCloseTo((0.5 * 3 + 2) / 1.5, 12)
  })
})

const evaluation = (run: string, dataset: string, n: number, r1: number, created = '2026-01-01T00:00:00Z'): Evaluation => ({
  run, step: 1, dataset, split: 'test', embedding: 'centroid', n, created,
  a2v: { 'R@1': r1, 'R@5': r1, 'R@10': r1, median_rank: 1 }, v2a: { 'R@1': r1, 'R@5': r1, 'R@10': r1, median_rank: 1 }
})
const summary = (name: string, extra: Partial<RunSummary['settings']> = {}, objective = 'equiav'): RunSummary => ({
  name, kind: 'pretrain', preset: 'tiny', objective, totalSteps: 10, created: 'now', data: 'x', backend: 'wasm', location: null, last: null,
  settings: { lr: 2e-4, batchSize: 16, S: 16, timeRoll: false, seed: 0, dataset: 'demo', epochs: 1, stepsPerEpoch: 10, lossWeights: W, warmupSteps: 1, tau: 0.07, workers: 1, init: null, ...extra }
})

describe('evaluation sets', () => {
  // the case: a run evaluated on 25 clips must not rank above runs evaluated on 240
  const list: RunRetrieval[] = [
    { run: 'small', lineage: null, latest: null, evaluations: [evaluation('small', 'demo', 25, 40)], embedded: [] },
    { run: 'big-a', lineage: null, latest: null, evaluations: [evaluation('big-a', 'demo', 240, 2.5)], embedded: [] },
    { run: 'big-b', lineage: null, latest: null, evaluations: [evaluation('big-b', 'demo', 240, 1.2), evaluation('big-b', 'demo', 240, 3.1, '2026-02-01T00:00:00Z')], embedded: [] },
    { run: 'none', lineage: null, latest: null, evaluations: [], embedded: [] }
  ]
  const ctx: RowContext = { retrieval: new Map(list.map((r) => [r.run, r])), evalSet: 'demo/test/240' }
  it('are keyed by dataset, split and n, the one most runs share first', () => {
    expect(evaluationSets(list).map((s) => [s.key, s.runs])).toEqual([['demo/test/240', 2], ['demo/test/25', 1]])
    expect(evaluationOn(list[2].evaluations, 'demo/test/240')?.a2v['R@1']).toBe(3.1) // the newest
  })
  it('rank only the runs evaluated on the chosen set; the others sort last in either direction', () => {
    const runs = ['small', 'big-a', 'big-b', 'none'].map((n) => summary(n))
    expect(sortRuns(runs, 'a2v.R@1', false, ctx).map((r) => r.name).slice(0, 2)).toEqual(['big-b', 'big-a'])
    expect(sortRuns(runs, 'a2v.R@1', true, ctx).map((r) => r.name).slice(0, 2)).toEqual(['big-a', 'big-b'])
    expect(RUN_COLUMNS.find((c) => c.key === 'a2v.R@1')!.value(runs[0], ctx)).toBeUndefined()
  })
  it('have chance R@K = 100·K/n and chance median rank (n + 1)/2', () => {
    expect(chanceRecall(1, 240)).toBeCloseTo(0.41667, 4)
    expect(chanceRecall(10, 4)).toBe(100)
    expect(chanceMedianRank(240)).toBe(120.5)
  })
})

describe('runs table filter', () => {
  const ctx: RowContext = { retrieval: new Map(), evalSet: null }
  const shown = RUN_COLUMNS.filter((c) => ['objective', 'lr'].includes(c.key))
  const runs = [summary('a', { lr: 2e-4 }), summary('b', { lr: 5e-4, seed: 1 }, 'inter-only')]
  const names = (q: string): string[] => runs.filter((r) => matchesFilter(r, q, shown, ctx)).map((r) => r.name)
  it('compares a column with =, < and >, by key or label, and finds free text in the shown columns', () => {
    expect(names('lr<3e-4')).toEqual(['a'])
    expect(names('lr>3e-4 seed=1')).toEqual(['b'])
    expect(names('objective=inter-only')).toEqual(['b'])
    expect(names('timeroll=off')).toEqual(['a', 'b'])
    expect(names('inter')).toEqual(['b'])
    expect(names('')).toEqual(['a', 'b'])
  })
})
