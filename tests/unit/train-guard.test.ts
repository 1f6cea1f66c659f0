/** The training guard's decisions, on hand-made step measurements (the loops' side is in train-faults.test.ts). */
import { describe, expect, it } from 'vitest'
import { GUARD_DEFAULTS, type GuardSettings, type StepHealth, TrainingGuard } from '../../src/main/engine/train/guard'

const healthy = { nonFinite: 0, total: 1000, norm: 30 }
const lnB = Math.log(16)

function step(n: number, over: Partial<StepHealth> = {}): StepHealth {
  return { step: n, loss: 3, params: healthy, inter: { loss: 2.1, batchSize: 16, spreadA: 0.5, spreadV: 0.6 }, ...over }
}

function collapsed(n: number): StepHealth {
  return step(n, { inter: { loss: lnB + 0.01, batchSize: 16, spreadA: 0.999, spreadV: 0.4 } })
}

function settings(action: 'stop' | 'warn' | 'off', window = 3): GuardSettings {
  return { ...GUARD_DEFAULTS, collapse: { ...GUARD_DEFAULTS.collapse, action, window } }
}

describe('TrainingGuard', () => {
  it('lets healthy steps through', () => {
    const g = new TrainingGuard(GUARD_DEFAULTS, healthy)
    for (let i = 1; i <= 300; i++) expect(g.check(step(i, { params: { ...healthy, norm: 30 + i * 0.01 } }))).toEqual({ action: 'continue' })
  })

  it('stops on a non-finite loss, naming the step', () => {
    const v = new TrainingGuard(GUARD_DEFAULTS, healthy).check(step(7, { loss: NaN }))
    expect(v).toMatchObject({ action: 'stop', kind: 'diverged' })
    expect(v.action !== 'continue' && v.reason).toBe('the loss became NaN at step 7')
  })

  it('stops when the update made parameters non-finite even though the loss was finite, counting them', () => {
    const v = new TrainingGuard(GUARD_DEFAULTS, healthy).check(step(2, { params: { nonFinite: 1_856_000, total: 1_877_504, norm: NaN } }))
    expect(v).toMatchObject({ action: 'stop', kind: 'diverged', reason: 'the update of step 2 made 1.86 M of 1.88 M parameters non-finite' })
  })

  it('stops an update that grows the parameter norm past the limit', () => {
    const g = new TrainingGuard(GUARD_DEFAULTS, healthy)
    expect(g.check(step(1, { params: { ...healthy, norm: 299 } })).action).toBe('continue') // 9.97×
    expect(g.check(step(2, { params: { ...healthy, norm: 3000 } }))).toMatchObject({ action: 'stop', kind: 'exploded' }) // 10.03×
    const big = new TrainingGuard(GUARD_DEFAULTS, healthy).check(step(1, { params: { ...healthy, norm: 3.84e5 } }))
    expect(big).toMatchObject({ action: 'stop', kind: 'exploded', reason: 'the update of step 1 grew the parameter norm 1.28e+4× (30.0 → 3.84e+5; limit 10×)' })
    const off = new TrainingGuard({ ...GUARD_DEFAULTS, maxNormGrowth: 0 }, healthy)
    expect(off.check(step(1, { params: { ...healthy, norm: 1e6 } })).action).toBe('continue')
  })

  it('stops a collapse once a whole window of steps sat at ln B with spread above the limit', () => {
    const g = new TrainingGuard(settings('stop'), healthy)
    expect(g.check(collapsed(1)).action).toBe('continue')
    expect(g.check(collapsed(2)).action).toBe('continue')
    const v = g.check(collapsed(3))
    expect(v).toMatchObject({ action: 'stop', kind: 'collapsed' })
    expect(v.action !== 'continue' && v.reason).toMatch(/for 3 steps up to step 3 loss_inter stayed within 0.05 of ln 16 = 2.773/)
  })

  it('restarts the window when a step is not collapsed, and needs both the loss and the spread', () => {
    const g = new TrainingGuard(settings('stop'), healthy)
    g.check(collapsed(1))
    g.check(collapsed(2))
    expect(g.check(step(3, { inter: { loss: lnB - 0.2, batchSize: 16, spreadA: 0.999, spreadV: 0.999 } })).action).toBe('continue') // learning
    expect(g.check(step(4, { inter: { loss: lnB, batchSize: 16, spreadA: 0.98, spreadV: 0.98 } })).action).toBe('continue') // spread 0.98
    g.check(collapsed(5))
    g.check(collapsed(6))
    expect(g.check(collapsed(7)).action).toBe('stop')
  })

  it('warns once per full window with action warn, and ignores collapse with off', () => {
    const warn = new TrainingGuard(settings('warn', 2), healthy)
    const actions = [1, 2, 3, 4, 5].map((i) => warn.check(collapsed(i)).action)
    expect(actions).toEqual(['continue', 'warn', 'continue', 'warn', 'continue'])
    const off = new TrainingGuard(settings('off', 1), healthy)
    expect([1, 2, 3].map((i) => off.check(collapsed(i)).action)).toEqual(['continue', 'continue', 'continue'])
  })

  it('never calls a batch of one collapsed (its spread is NaN), and fine-tuning steps carry no inter term', () => {
    const g = new TrainingGuard(settings('stop', 1), healthy)
    expect(g.check(step(1, { inter: { loss: 0, batchSize: 1, spreadA: NaN, spreadV: NaN } })).action).toBe('continue')
    expect(g.check(step(2, { inter: undefined })).action).toBe('continue')
  })
})
