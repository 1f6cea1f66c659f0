import { describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/main/engine/config'
import {
  augOptionsFromConfig,
  makeViews,
  sampleAudioAugParams,
  sampleVirtualParams,
  sampleVisualAugParams,
  VISUAL_AUG_INDEX
} from '../../src/main/engine/augment'
import { Rng } from '../../src/main/engine/rng'

const cfg = PRESETS.tiny

function inputs(seed: number): { audio: Float32Array; frame: Float32Array } {
  const rng = new Rng(seed)
  return {
    audio: new Float32Array(3 * cfg.audioLength * cfg.numMelBins).map(() => rng.normal()),
    frame: new Float32Array(3 * 80 * 80).map(() => rng.uniform())
  }
}

describe('makeViews', () => {
  it('returns the batch layouts of one clip, deterministically per seed', () => {
    const { audio, frame } = inputs(1)
    const a = makeViews(new Rng(5), audio, frame, cfg)
    const b = makeViews(new Rng(5), audio, frame, cfg)
    const c = makeViews(new Rng(6), audio, frame, cfg)
    expect(a.aAug.length).toBe(3 * cfg.audioLength * cfg.numMelBins)
    expect(a.vAug.length).toBe(3 * cfg.imgSize * cfg.imgSize)
    expect(a.tA.length).toBe(cfg.augSizeA)
    expect(a.tV.length).toBe(cfg.augSizeV)
    expect(a.tAList.length).toBe(cfg.cenNum * cfg.augSizeA)
    expect(a.tVList.length).toBe(cfg.cenNum * cfg.augSizeV)
    expect(b).toEqual(a)
    expect(c.tA).not.toEqual(a.tA)
    expect(c.tAList).not.toEqual(a.tAList)
  })

  it('draws t_a, t_v and the S virtual vectors from the same samplers, the virtual ones for an imgSize frame', () => {
    const { audio, frame } = inputs(2)
    const views = makeViews(new Rng(9), audio, frame, cfg)
    const rng = new Rng(9)
    const opts = augOptionsFromConfig(cfg)
    expect(views.tA).toEqual(sampleAudioAugParams(rng, opts.audio).vector)
    expect(views.tV).toEqual(sampleVisualAugParams(rng, { ...opts.visual, H: 80, W: 80 }).vector)
    const virtual = sampleVirtualParams(rng, cfg.cenNum, opts)
    expect(views.tAList).toEqual(virtual.tAList)
    expect(views.tVList).toEqual(virtual.tVList)
    // the S rows differ from each other: fresh draws, never copies
    const rows = Array.from({ length: cfg.cenNum }, (_, s) => Array.from(views.tVList.subarray(s * cfg.augSizeV, (s + 1) * cfg.augSizeV)))
    expect(new Set(rows.map((r) => r.join(','))).size).toBe(cfg.cenNum)
    for (const r of rows) {
      expect(r[VISUAL_AUG_INDEX.cropOn]).toBe(1)
      // crop fractions of a 64 × 64 dummy frame are multiples of 1/64
      expect(Number.isInteger(r[VISUAL_AUG_INDEX.cropHeight] * cfg.imgSize)).toBe(true)
    }
  })

  it('ImageNet-normalises the augmented frame and rejects a non-square frame without dims', () => {
    const { audio, frame } = inputs(3)
    const views = makeViews(new Rng(1), audio, frame, cfg)
    const lo = [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225]
    const hi = [0.515 / 0.229, 0.544 / 0.224, 0.594 / 0.225]
    const plane = cfg.imgSize * cfg.imgSize
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < plane; k++) {
        expect(views.vAug[c * plane + k]).toBeGreaterThanOrEqual(lo[c] - 1e-5)
        expect(views.vAug[c * plane + k]).toBeLessThanOrEqual(hi[c] + 1e-5)
      }
    }
    expect(() => makeViews(new Rng(1), audio, new Float32Array(3 * 10 * 12), cfg)).toThrow()
    expect(makeViews(new Rng(1), audio, new Float32Array(3 * 10 * 12), cfg, { H: 10, W: 12 }).vAug.length).toBe(3 * plane)
  })

  it('costs well under a second per clip at the base size', () => {
    const base = PRESETS.base
    const rng = new Rng(4)
    const audio = new Float32Array(3 * base.audioLength * base.numMelBins).map(() => rng.normal())
    const frame = new Float32Array(3 * 224 * 224).map(() => rng.uniform())
    const start = performance.now()
    for (let i = 0; i < 4; i++) makeViews(rng, audio, frame, base)
    const ms = (performance.now() - start) / 4
    expect(ms).toBeLessThan(1000)
  })
})
