import { describe, expect, it } from 'vitest'
import { gaussianBlur, gaussianKernel1d } from '../../src/main/engine/augment/blur'
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  encodeColorJitter,
  PIL_LUMA,
  TENSOR_LUMA
} from '../../src/main/engine/augment/color'
import { randomResizedCropParams, resizedCrop, roundHalfEven } from '../../src/main/engine/augment/crop'
import { flipVertical, rotateQuarterTurns } from '../../src/main/engine/augment/geometry'
import { Rng } from '../../src/main/engine/rng'

function randomImage(plane: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed)
  return new Float32Array(3 * plane).map(() => rng.uniform(lo, hi))
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length)
  for (let k = 0; k < actual.length; k++) {
    if (!(Math.abs(actual[k] - expected[k]) <= tol)) throw new Error(`index ${k}: ${actual[k]} vs ${expected[k]}`)
  }
}

describe('random resized crop', () => {
  it('rounds like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, -2.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, -2])
  })

  it('falls back to the central crop of the nearest allowed aspect', () => {
    // a 10 × 100 strip can never hold a near-square crop of ≥ 90 % of its area
    const box = randomResizedCropParams(new Rng(1), 10, 100, [0.9, 1], [3 / 4, 4 / 3])
    expect(box).toEqual({ top: 0, left: 43, height: 10, width: 13 }) // w = round(10 · 4/3), left = ⌊87/2⌋
    const tall = randomResizedCropParams(new Rng(1), 100, 10, [0.9, 1], [3 / 4, 4 / 3])
    expect(tall).toEqual({ top: 43, left: 0, height: 13, width: 10 }) // h = round(10 / (3/4))
  })

  it('upsamples like torch bilinear, align_corners=False (hand-computed 2×2 → 4×4)', () => {
    const img = Float32Array.from([0, 1, 2, 3]) // [1, 2, 2]
    const out = resizedCrop(img, 1, 2, 2, { top: 0, left: 0, height: 2, width: 2 }, 4, 4)
    // 1-D weights per output: [1, 0], [¾, ¼], [¼, ¾], [0, 1]
    expectClose(out, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3], 1e-7)
  })

  it('downsamples with the antialiased (PIL) triangle filter', () => {
    // [0, 1, 2, 3] → 2 samples: scale 2, support 2; output 0 centred at 1 takes x = 0, 1, 2 with
    // weights 1 − |x + ½ − 1|/2 = ¾, ¾, ¼ (normalised by 7/4); output 1 takes x = 1, 2, 3 with ¼, ¾, ¾
    const img = Float32Array.from([0, 1, 2, 3]) // [1, 1, 4]
    const out = resizedCrop(img, 1, 1, 4, { top: 0, left: 0, height: 1, width: 4 }, 1, 2)
    expectClose(out, [(0.75 * 1 + 0.25 * 2) / 1.75, (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75], 1e-6)
  })

  it('crops before resizing: the samples come from inside the box only', () => {
    const img = new Float32Array(2 * 6 * 6).fill(9) // [2, 6, 6]
    for (let c = 0; c < 2; c++) for (let y = 2; y < 4; y++) for (let x = 1; x < 4; x++) img[(c * 6 + y) * 6 + x] = c + 0.5
    const out = resizedCrop(img, 2, 6, 6, { top: 2, left: 1, height: 2, width: 3 }, 5, 7)
    expectClose(out, new Float32Array(2 * 5 * 7).map((_, k) => (k < 35 ? 0.5 : 1.5)), 1e-6)
    expect(() => resizedCrop(img, 2, 6, 6, { top: 5, left: 0, height: 2, width: 2 }, 2, 2)).toThrow()
  })
})

describe('colour ops (torchvision semantics)', () => {
  const plane = 50
  const img = randomImage(plane, 7)

  it('brightness: clamp(b·x, 0, 1)', () => {
    const y = Float32Array.from(img)
    adjustBrightness(y, 1.3)
    expectClose(y, img.map((v) => Math.min(1, 1.3 * v)), 1e-6)
  })

  it('contrast: clamp(c·x + (1 − c)·mean(grey)) with grey = 0.2989 R + 0.587 G + 0.114 B', () => {
    let mean = 0
    for (let k = 0; k < plane; k++) mean += 0.2989 * img[k] + 0.587 * img[plane + k] + 0.114 * img[2 * plane + k]
    mean /= plane
    for (const c of [0.6, 1.4]) {
      const y = Float32Array.from(img)
      adjustContrast(y, plane, c, TENSOR_LUMA)
      expectClose(y, img.map((v) => Math.min(1, Math.max(0, c * v + (1 - c) * mean))), 1e-6)
    }
  })

  it('saturation: clamp(s·x + (1 − s)·grey) per pixel, PIL luma for the visual view', () => {
    const y = Float32Array.from(img)
    adjustSaturation(y, plane, 1.4, PIL_LUMA)
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < plane; k++) {
        const grey = 0.299 * img[k] + 0.587 * img[plane + k] + 0.114 * img[2 * plane + k]
        expect(y[c * plane + k]).toBeCloseTo(Math.min(1, Math.max(0, 1.4 * img[c * plane + k] - 0.4 * grey)), 6)
      }
    }
  })

  it('brightness, contrast and saturation clamp out-of-range inputs into [0, 1]', () => {
    const wide = randomImage(plane, 8, -3, 3)
    for (const op of [(y: Float32Array) => adjustBrightness(y, 1.2), (y: Float32Array) => adjustContrast(y, plane, 0.7, TENSOR_LUMA), (y: Float32Array) => adjustSaturation(y, plane, 1.1, TENSOR_LUMA)]) {
      const y = Float32Array.from(wide)
      op(y)
      expect(Math.min(...y)).toBe(0)
      expect(Math.max(...y)).toBe(1)
    }
  })

  it('hue: identity on a grey image in [0, 1] and for a zero shift; rotates primaries by thirds', () => {
    const grey = new Float32Array(3 * plane).map((_, k) => (k % plane) / plane)
    const g = Float32Array.from(grey)
    adjustHue(g, plane, 0.09)
    expect(g).toEqual(grey)
    const z = Float32Array.from(img)
    adjustHue(z, plane, 0)
    expectClose(z, img, 1e-6)
    // pixels red (1, 0, 0), dark red (0.8, 0, 0), orange (0.8, 0.4, 0) at hue 30°; +⅓ turn gives
    // green, dark green and hue 150° at the same v = 0.8, s = 1: (0, 0.8, 0.4)
    const px = Float32Array.from([1, 0.8, 0.8, 0, 0, 0.4, 0, 0, 0]) // [3, 3] planes R, G, B
    adjustHue(px, 3, 1 / 3)
    expectClose(px, [0, 0, 0, 1, 0.8, 0.8, 0, 0, 0.4], 1e-6)
  })

  it('hue on a grey image outside [0, 1] keeps red at v and clamps green and blue (torchvision quirk)', () => {
    const y = Float32Array.from([-0.5, 2, 0.3, -0.5, 2, 0.3, -0.5, 2, 0.3]) // [3, 3] grey pixels
    adjustHue(y, 3, -0.05)
    expect(Array.from(y)).toEqual([-0.5, 2, Math.fround(0.3), 0, 1, Math.fround(0.3), 0, 1, Math.fround(0.3)])
  })

  it('encodes off as order [0, 1, 2, 3] and zero factors, on as factor − 1', () => {
    const v = new Float32Array(11).fill(7)
    encodeColorJitter(v, 1, null)
    expect(Array.from(v)).toEqual([7, 0, 0, 1, 2, 3, 0, 0, 0, 0, 7])
    encodeColorJitter(v, 1, { order: [3, 1, 0, 2], brightness: 1.25, contrast: 0.75, saturation: 1, hue: -0.0625 })
    expect(Array.from(v)).toEqual([7, 1, 3, 1, 0, 2, 0.25, -0.25, 0, -0.0625, 7])
  })
})

describe('Gaussian blur', () => {
  it('kernel: torchvision taps exp(−x²/2σ²) at integer offsets, summing to 1', () => {
    for (const [size, sigma] of [[3, 0.4], [5, 1.3], [13, 2]] as const) {
      const k = gaussianKernel1d(size, sigma)
      expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12)
      const half = (size - 1) / 2
      for (let i = 0; i < size; i++) expect(k[i] / k[half]).toBeCloseTo(Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)), 12)
    }
    expect(() => gaussianKernel1d(4, 1)).toThrow()
  })

  it('preserves a constant image with either padding', () => {
    const img = new Float32Array(3 * 9 * 7).fill(0.42)
    for (const pad of ['reflect', 'edge'] as const) expectClose(gaussianBlur(img, 3, 9, 7, 1.9, 5, pad), img, 1e-6)
  })

  it('an interior impulse spreads as the outer product of the kernel', () => {
    const img = new Float32Array(11 * 11) // [1, 11, 11]
    img[5 * 11 + 5] = 1
    const k = gaussianKernel1d(5, 1.2)
    const out = gaussianBlur(img, 1, 11, 11, 1.2, 5, 'reflect')
    for (let y = 0; y < 11; y++) {
      for (let x = 0; x < 11; x++) {
        const dy = y - 5 + 2
        const dx = x - 5 + 2
        const want = dy >= 0 && dy < 5 && dx >= 0 && dx < 5 ? k[dy] * k[dx] : 0
        expect(out[y * 11 + x]).toBeCloseTo(want, 7)
      }
    }
  })

  it('pads by reflection (torch) or by repeating the edge (PIL)', () => {
    const row = Float32Array.from([1, 0, 0, 0, 0]) // [1, 1, 5]
    const [a, b] = gaussianKernel1d(3, 1)
    // reflect: [0 | 1 0 0 0 0 | 0] → first two outputs b, a; edge: [1 | 1 0 …] → a + b, a
    expectClose(gaussianBlur(row, 1, 1, 5, 1, 3, 'reflect'), [b, a, 0, 0, 0], 1e-7)
    expectClose(gaussianBlur(row, 1, 1, 5, 1, 3, 'edge'), [a + b, a, 0, 0, 0], 1e-7)
  })
})

describe('geometry', () => {
  const img = Float32Array.from({ length: 2 * 3 * 3 }, (_, k) => k) // [2, 3, 3]

  it('quarter turns are counter-clockwise and four make the identity', () => {
    // channel 0 = [[0 1 2] [3 4 5] [6 7 8]] turned 90° counter-clockwise = [[2 5 8] [1 4 7] [0 3 6]]
    expect(Array.from(rotateQuarterTurns(img, 2, 3, 1).subarray(0, 9))).toEqual([2, 5, 8, 1, 4, 7, 0, 3, 6])
    expect(Array.from(rotateQuarterTurns(img, 2, 3, 2).subarray(9))).toEqual([17, 16, 15, 14, 13, 12, 11, 10, 9])
    let r: Float32Array = img
    for (let i = 0; i < 4; i++) r = rotateQuarterTurns(r, 2, 3, 1)
    expect(r).toEqual(img)
    expect(rotateQuarterTurns(rotateQuarterTurns(img, 2, 3, 1), 2, 3, 3)).toEqual(img)
  })

  it('vflip reverses the rows', () => {
    expect(Array.from(flipVertical(img, 2, 3, 3).subarray(0, 9))).toEqual([6, 7, 8, 3, 4, 5, 0, 1, 2])
  })
})
