import { describe, expect, it } from 'vitest'
import { HIDDEN, INDETERMINATE, progressBarValue } from '../../src/main/progress-bar'
import { appendMetrics } from '../../src/renderer/src/stores/metrics-merge'
import type { MetricsRow } from '../../src/shared/contract'

const p = (done: number, total: number) => ({ done, total, unit: 'step' })

describe('progressBarValue (the window\'s OS progress bar)', () => {
  it.each([
    { what: 'no jobs', jobs: [], want: HIDDEN },
    { what: 'only finished and queued jobs', jobs: [{ state: 'done' as const, progress: p(4, 4) }, { state: 'queued' as const, progress: null }], want: HIDDEN },
    { what: 'a running job that has not reported', jobs: [{ state: 'running' as const, progress: null }], want: INDETERMINATE },
    { what: 'a running job with total 0', jobs: [{ state: 'running' as const, progress: p(0, 0) }], want: INDETERMINATE },
    { what: 'the running job, not the finished one', jobs: [{ state: 'done' as const, progress: p(10, 10) }, { state: 'running' as const, progress: p(3, 12) }], want: 0.25 },
    { what: 'done beyond total, clamped', jobs: [{ state: 'running' as const, progress: p(13, 12) }], want: 1 }
  ])('$what → $want', ({ jobs, want }) => {
    expect(progressBarValue(jobs)).toBe(want)
  })
})

describe('appendMetrics (rows from events onto the chart)', () => {
  const row = (step: number, time = `t${step}`): MetricsRow => ({
    step, epoch: 0, loss: 1, loss_inter: 1, loss_intra_a: 1, loss_intra_v: 1, lr: 1, grad_norm: 1, clips_per_s: 1, time
  })
  it('appends new steps and skips rows already shown', () => {
    const shown = [row(1), row(2)]
    expect(appendMetrics(shown, [row(2), row(3)])).toBe('appended')
    expect(shown.map((r) => r.step)).toEqual([1, 2, 3])
  })
  it('asks for a reload when a step comes again with another time (resumed from an earlier checkpoint)', () => {
    const shown = [row(1), row(2), row(3)]
    expect(appendMetrics(shown, [row(3, 'later')])).toBe('reload')
  })
})
