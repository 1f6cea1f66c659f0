import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/main/engine/rng'
import { OFFICIAL_INPUT_NORM } from '../../src/main/engine/config'
import {
  applyVisualAug,
  normalizeFrame,
  sampleVisualAugParams,
  VISUAL_AUG_INDEX as I,
  type VisualAugSpec,
  visualBlurKernelSize
} from '../../src/main/engine/augment/visual'

function frame(H: number, W: number, seed: number): Float32Array {
  const rng = new Rng(seed)
  return new Float32Array(3 * H * W).map(() => rng.uniform())
}

function expectRate(hits: number, n: number, p: number): void {
  expect(Math.abs(hits / n - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / n))
}

const FULL = (H: number, W: number): VisualAugSpec => ({
  crop: { top: 0, left: 0, height: H, width: W },
  colorJitter: null,
  blurSigma: null,
  hflip: false,
  grayscale: false,
  rotation: null,
  vflip: false
})

describe('visual augmentation parameters (t_v)', () => {
  const N = 4000
  const rng = new Rng(12)
  const vectors = Array.from({ length: N }, () => sampleVisualAugParams(rng, { H: 224, W: 224, augSize: 21 }).vector)
  const rate = (idx: number): number => vectors.filter((v) => v[idx] === 1).length

  it('same seed → identical vectors and outputs; different seed → different', () => {
    const x = frame(40, 48, 1)
    const run = (seed: number): [Float32Array, Float32Array] => {
      const { vector, spec } = sampleVisualAugParams(new Rng(seed), { H: 40, W: 48 })
      return [vector, applyVisualAug(spec, x, 40, 48, 32)]
    }
    const [v1, y1] = run(3)
    const [v2, y2] = run(3)
    const [v3] = run(4)
    expect(v2).toEqual(v1)
    expect(y2).toEqual(y1)
    expect(v3).not.toEqual(v1)
  })

  it('has the official lengths 16, 18 (default) and 21', () => {
    const r = new Rng(1)
    expect(sampleVisualAugParams(r, { H: 224, W: 224 }).vector.length).toBe(18)
    for (const augSize of [16, 18, 21] as const) expect(sampleVisualAugParams(r, { H: 224, W: 224, augSize }).vector.length).toBe(augSize)
    for (let i = 0; i < 40; i++) {
      const { spec } = sampleVisualAugParams(r, { H: 224, W: 224, augSize: 16 })
      expect(spec.hflip || spec.grayscale || spec.vflip || spec.rotation !== null).toBe(false)
    }
    expect(() => sampleVisualAugParams(r, { H: 224, W: 224, augSize: 17 as 18 })).toThrow()
  })

  it('samples CJ 0.8, blur 0.5, hflip 0.5, grayscale 0.2, rotation 0.5 (angle uniform over 0–3), vflip 0.5', () => {
    expect(rate(I.cropOn)).toBe(N)
    expectRate(rate(I.jitterOn), N, 0.8)
    expectRate(rate(I.blurOn), N, 0.5)
    expectRate(rate(I.hflip), N, 0.5)
    expectRate(rate(I.grayscale), N, 0.2)
    expectRate(rate(I.rotationOn), N, 0.5)
    expectRate(rate(I.vflip), N, 0.5)
    const rotated = vectors.filter((v) => v[I.rotationOn] === 1)
    for (let angle = 0; angle < 4; angle++) expectRate(rotated.filter((v) => v[I.rotation] === angle).length, rotated.length, 0.25)
  })

  it('keeps fields in range and uses the identity defaults when off', () => {
    for (const v of vectors) {
      const [top, left, h, w] = [v[I.cropTop] * 224, v[I.cropLeft] * 224, v[I.cropHeight] * 224, v[I.cropWidth] * 224]
      for (const k of [top, left, h, w]) expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-3)
      expect(top + h).toBeLessThanOrEqual(224 + 1e-3)
      expect(left + w).toBeLessThanOrEqual(224 + 1e-3)
      expect((h * w) / 224 ** 2).toBeGreaterThan(0.08 * 0.95)
      expect(w / h).toBeGreaterThan((3 / 4) * 0.95)
      expect(w / h).toBeLessThan((4 / 3) * 1.05)
      if (v[I.jitterOn] === 1) {
        expect([...v.subarray(I.jitterOrder, I.jitterOrder + 4)].sort()).toEqual([0, 1, 2, 3])
        for (const idx of [I.jitterBrightness, I.jitterContrast, I.jitterSaturation]) expect(Math.abs(v[idx])).toBeLessThanOrEqual(0.4 + 1e-6)
        expect(Math.abs(v[I.jitterHue])).toBeLessThanOrEqual(0.1 + 1e-7)
      } else {
        expect(Array.from(v.subarray(I.jitterOrder, I.jitterHue + 1))).toEqual([0, 1, 2, 3, 0, 0, 0, 0])
      }
      if (v[I.blurOn] === 1) {
        expect(v[I.blurSigma]).toBeGreaterThanOrEqual(0.1 - 1e-7)
        expect(v[I.blurSigma]).toBeLessThanOrEqual(2)
      } else expect(v[I.blurSigma]).toBe(0)
      if (v[I.rotationOn] === 0) expect(v[I.rotation]).toBe(0)
    }
  })

  it('normalises the crop by the actual frame size', () => {
    const r = new Rng(2)
    for (let i = 0; i < 200; i++) {
      const { vector: v, spec } = sampleVisualAugParams(r, { H: 90, W: 160 })
      expect(v[I.cropTop]).toBe(Math.fround(spec.crop.top / 90))
      expect(v[I.cropLeft]).toBe(Math.fround(spec.crop.left / 160))
      expect(v[I.cropHeight]).toBe(Math.fround(spec.crop.height / 90))
      expect(v[I.cropWidth]).toBe(Math.fround(spec.crop.width / 160))
      expect(spec.crop.top + spec.crop.height).toBeLessThanOrEqual(90)
      expect(spec.crop.left + spec.crop.width).toBeLessThanOrEqual(160)
    }
  })
})

describe('applyVisualAug', () => {
  it('a full-size crop with nothing else is the identity', () => {
    const x = frame(24, 24, 5)
    expect(applyVisualAug(FULL(24, 24), x, 24, 24, 24)).toEqual(x)
  })

  it('returns [3, outSize, outSize] in [0, 1] for any sampled augmentation', () => {
    const x = frame(50, 70, 6)
    const rng = new Rng(7)
    for (let i = 0; i < 30; i++) {
      const { spec } = sampleVisualAugParams(rng, { H: 50, W: 70, augSize: 21 })
      const y = applyVisualAug(spec, x, 50, 70, 32)
      expect(y.length).toBe(3 * 32 * 32)
      expect(Math.min(...y)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...y)).toBeLessThanOrEqual(1)
    }
  })

  it('grayscale writes the PIL luma 0.299 R + 0.587 G + 0.114 B to all channels', () => {
    const x = frame(8, 8, 8)
    const y = applyVisualAug({ ...FULL(8, 8), grayscale: true }, x, 8, 8, 8)
    for (let k = 0; k < 64; k++) {
      const luma = 0.299 * x[k] + 0.587 * x[64 + k] + 0.114 * x[128 + k]
      for (let c = 0; c < 3; c++) expect(y[c * 64 + k]).toBeCloseTo(luma, 6)
    }
  })

  it('flips, rotates and flips in the official order (hflip, then rotation, then vflip)', () => {
    const x = frame(6, 6, 9)
    const at = (img: Float32Array, c: number, y: number, xx: number): number => img[(c * 6 + y) * 6 + xx]
    const y = applyVisualAug({ ...FULL(6, 6), hflip: true, rotation: 1, vflip: true }, x, 6, 6, 6)
    // hflip: h(y, x) = x(y, 5 − x); ccw turn: r(y, x) = h(x, 5 − y) = x(x, y); vflip: v(y, x) = r(5 − y, x) = x(x, 5 − y)
    for (let c = 0; c < 3; c++) for (let r = 0; r < 6; r++) for (let q = 0; q < 6; q++) expect(at(y, c, r, q)).toBe(at(x, c, q, 5 - r))
  })

  it('blur keeps a constant frame and uses a kernel of 2⌈3σ⌉ + 1 taps', () => {
    expect([0.1, 0.34, 1, 2].map(visualBlurKernelSize)).toEqual([3, 5, 7, 13])
    const x = new Float32Array(3 * 20 * 20).fill(0.6)
    const y = applyVisualAug({ ...FULL(20, 20), blurSigma: 2 }, x, 20, 20, 20)
    for (const value of y) expect(value).toBeCloseTo(0.6, 6)
  })

  it('normalizeFrame is (x − mean) / std per channel (the official ImageNet statistics)', () => {
    const x = Float32Array.from([0, 1, 0.5, 0.5, 1, 0]) // [3, 1, 2]
    const y = normalizeFrame(x, OFFICIAL_INPUT_NORM.frame)
    const want = [-0.485 / 0.229, 0.515 / 0.229, 0.044 / 0.224, 0.044 / 0.224, 0.594 / 0.225, -0.406 / 0.225]
    want.forEach((w, k) => expect(y[k]).toBeCloseTo(w, 5))
  })
})
