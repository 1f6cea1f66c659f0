import { describe, expect, it } from 'vitest'
import {
  AUDIO_AUG_INDEX as I,
  type AudioAugSpec,
  applyAudioAug,
  audioBlurKernelSize,
  sampleAudioAugParams
} from '../../src/main/engine/augment/audio'
import { Rng } from '../../src/main/engine/rng'

const T = 1024
const F = 128
const OFF: AudioAugSpec = { timeMask: null, freqMask: null, timeShift: null, crop: null, colorJitter: null, blurSigma: null, hflip: false }

/** a normalised-fbank-like [3, T, F] view: identical channels, values around 0 with spread ~1 */
function spectrogram(t: number, f: number, seed: number): Float32Array {
  const rng = new Rng(seed)
  const x = new Float32Array(3 * t * f)
  for (let k = 0; k < t * f; k++) {
    const v = rng.normal()
    x[k] = v
    x[t * f + k] = v
    x[2 * t * f + k] = v
  }
  return x
}

/** √(p(1−p)/n)-scaled tolerance: a correct sampler fails with probability < 1e-5 */
function expectRate(hits: number, n: number, p: number): void {
  expect(Math.abs(hits / n - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / n))
}

function drawMany(n: number, seed: number, opts = { T, F }): Float32Array[] {
  const rng = new Rng(seed)
  return Array.from({ length: n }, () => sampleAudioAugParams(rng, opts).vector)
}

describe('audio augmentation parameters (t_a)', () => {
  const N = 4000
  const vectors = drawMany(N, 11)

  it('same seed → identical vectors and outputs; different seed → different', () => {
    const x = spectrogram(128, 32, 1)
    const run = (seed: number): [Float32Array, Float32Array] => {
      const { vector, spec } = sampleAudioAugParams(new Rng(seed), { T: 128, F: 32 })
      return [vector, applyAudioAug(spec, x, 128, 32)]
    }
    const [v1, y1] = run(7)
    const [v2, y2] = run(7)
    const [v3] = run(8)
    expect(v2).toEqual(v1)
    expect(y2).toEqual(y1)
    expect(v3).not.toEqual(v1)
  })

  it('has the official lengths and only the fields of the chosen subset', () => {
    const rng = new Rng(3)
    for (const augSize of [7, 12, 21, 23, 24] as const) {
      expect(sampleAudioAugParams(rng, { T, F, augSize }).vector.length).toBe(augSize)
    }
    for (let i = 0; i < 50; i++) {
      const { spec } = sampleAudioAugParams(rng, { T, F, augSize: 7 })
      expect(spec.crop).toBeNull()
      expect(spec.colorJitter).toBeNull()
      expect(spec.blurSigma).toBeNull()
      expect(spec.hflip).toBe(false)
    }
    expect(() => sampleAudioAugParams(rng, { T, F, augSize: 26 as 24 })).toThrow()
  })

  it('samples on/off flags at p = 0.8, 0.8, 0.5, 0.5', () => {
    const rate = (idx: number): number => vectors.filter((v) => v[idx] === 1).length
    expectRate(rate(I.specAugOn), N, 0.8)
    expectRate(rate(I.jitterOn), N, 0.8)
    expectRate(rate(I.blurOn), N, 0.5)
    expectRate(rate(I.hflip), N, 0.5)
    expect(rate(I.cropOn)).toBe(N)
    for (const v of vectors) {
      for (const idx of [I.specAugOn, I.timeShiftOn, I.cropOn, I.jitterOn, I.blurOn, I.hflip]) expect([0, 1]).toContain(v[idx])
      expect(v[I.timeShiftOn]).toBe(v[I.specAugOn])
    }
  })

  it('uses the identity defaults when an augmentation is off', () => {
    let seenOff = 0
    for (const v of vectors) {
      if (v[I.specAugOn] === 0) expect(Array.from(v.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 0, 0])
      if (v[I.jitterOn] === 0) {
        seenOff++
        expect(Array.from(v.subarray(I.jitterOrder, I.jitterOrder + 4))).toEqual([0, 1, 2, 3])
        expect(Array.from(v.subarray(I.jitterBrightness, I.jitterHue + 1))).toEqual([0, 0, 0, 0])
      }
      if (v[I.blurOn] === 0) expect(v[I.blurSigma]).toBe(0)
    }
    expect(seenOff).toBeGreaterThan(0)
  })

  it('keeps every field in its official range (raw mask indices, shift/1024, swapped crop normalisers)', () => {
    let maxTimeMask = 0
    let maxFreqMask = 0
    for (const v of vectors) {
      if (v[I.specAugOn] === 1) {
        const [ts, te, fs, fe] = [v[I.timeMaskStart], v[I.timeMaskEnd], v[I.freqMaskStart], v[I.freqMaskEnd]]
        for (const k of [ts, te, fs, fe]) expect(Number.isInteger(k)).toBe(true)
        expect(ts).toBeGreaterThanOrEqual(0)
        expect(te - ts).toBeGreaterThanOrEqual(0)
        expect(te - ts).toBeLessThan(192)
        expect(te).toBeLessThanOrEqual(T)
        expect(fs).toBeGreaterThanOrEqual(0)
        expect(fe - fs).toBeGreaterThanOrEqual(0)
        expect(fe - fs).toBeLessThan(48)
        expect(fe).toBeLessThanOrEqual(F)
        maxTimeMask = Math.max(maxTimeMask, te - ts)
        maxFreqMask = Math.max(maxFreqMask, fe - fs)
        expect(Number.isInteger(v[I.timeShift] * 1024)).toBe(true) // exact: 1024 is a power of two
        expect(v[I.timeShift]).toBeGreaterThanOrEqual(-1)
        expect(v[I.timeShift]).toBeLessThan(1)
      }
      // crop: top/height along time divided by 128, left/width along mel divided by 1024
      const [top, left, h, w] = [v[I.cropTop] * 128, v[I.cropLeft] * 1024, v[I.cropHeight] * 128, v[I.cropWidth] * 1024]
      for (const k of [top, left, h, w]) expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-3)
      expect(top + h).toBeLessThanOrEqual(T + 1e-3)
      expect(left + w).toBeLessThanOrEqual(F + 1e-3)
      expect(h).toBeGreaterThan(0)
      expect(w).toBeGreaterThan(0)
      // scale (0.08, 1) and ratio (1/10, 1.5/8), up to the rounding of h and w
      const area = (h * w) / (T * F)
      expect(area).toBeGreaterThan(0.08 * 0.9)
      expect(area).toBeLessThanOrEqual(1)
      expect(w / h).toBeGreaterThan(0.1 * 0.9)
      expect(w / h).toBeLessThan((1.5 / 8) * 1.1)
      if (v[I.jitterOn] === 1) {
        expect([...v.subarray(I.jitterOrder, I.jitterOrder + 4)].sort()).toEqual([0, 1, 2, 3])
        for (const idx of [I.jitterBrightness, I.jitterContrast, I.jitterSaturation]) {
          expect(v[idx]).toBeGreaterThanOrEqual(-0.4 - 1e-6)
          expect(v[idx]).toBeLessThanOrEqual(0.4 + 1e-6)
        }
        expect(Math.abs(v[I.jitterHue])).toBeLessThanOrEqual(0.1 + 1e-7)
      }
      if (v[I.blurOn] === 1) {
        expect(v[I.blurSigma]).toBeGreaterThanOrEqual(0.1 - 1e-7)
        expect(v[I.blurSigma]).toBeLessThanOrEqual(2)
      }
    }
    // the width U(0, 192) floored reaches the top of its range over 4000 × 0.8 draws
    expect(maxTimeMask).toBeGreaterThan(185)
    expect(maxFreqMask).toBeGreaterThan(44)
  })

  it('scales mask widths, shift and crop aspect to a shorter input', () => {
    const small = drawMany(2000, 5, { T: 256, F: 128 })
    let cropTall = 0
    for (const v of small) {
      if (v[I.specAugOn] === 1) {
        expect(v[I.timeMaskEnd] - v[I.timeMaskStart]).toBeLessThan(48) // round(192 · 256/1024)
        expect(v[I.timeMaskEnd]).toBeLessThanOrEqual(256)
        expect(v[I.freqMaskEnd] - v[I.freqMaskStart]).toBeLessThan(48)
        expect(Number.isInteger(v[I.timeShift] * 256)).toBe(true)
      }
      const h = v[I.cropHeight] * 128
      const w = v[I.cropWidth] * 256
      expect(w / h).toBeGreaterThan(0.4 * 0.9) // (1/10, 1.5/8) × (128/256)/(128/1024)
      expect(w / h).toBeLessThan(0.75 * 1.1)
      if (h < 256) cropTall++
    }
    // not stuck on the central fallback crop (which would always be full height)
    expect(cropTall).toBeGreaterThan(1000)
  })
})

describe('applyAudioAug', () => {
  it('masks zero exactly the encoded raw time and frequency ranges, and the time shift is not applied', () => {
    const rng = new Rng(21)
    const x = new Float32Array(3 * T * F).map((_, k) => 1 + (k % 97)) // strictly positive
    let checked = 0
    while (checked < 3) {
      const { vector: v, spec } = sampleAudioAugParams(rng, { T, F, augSize: 7 })
      if (v[I.specAugOn] !== 1 || v[I.timeMaskEnd] === v[I.timeMaskStart] || v[I.freqMaskEnd] === v[I.freqMaskStart]) continue
      expect(v[I.timeShift]).not.toBe(0)
      const y = applyAudioAug(spec, x, T, F)
      for (let c = 0; c < 3; c++) {
        for (let t = 0; t < T; t++) {
          for (let f = 0; f < F; f++) {
            const k = (c * T + t) * F + f
            const masked = (t >= v[I.timeMaskStart] && t < v[I.timeMaskEnd]) || (f >= v[I.freqMaskStart] && f < v[I.freqMaskEnd])
            if ((y[k] === 0) !== masked || (!masked && y[k] !== x[k])) throw new Error(`mismatch at c=${c} t=${t} f=${f}`)
          }
        }
      }
      checked++
    }
  })

  it('hflip reverses the mel axis', () => {
    const x = spectrogram(8, 6, 2)
    const y = applyAudioAug({ ...OFF, hflip: true }, x, 8, 6)
    for (let c = 0; c < 3; c++) {
      for (let t = 0; t < 8; t++) {
        for (let f = 0; f < 6; f++) expect(y[(c * 8 + t) * 6 + f]).toBe(x[(c * 8 + t) * 6 + 5 - f])
      }
    }
  })

  it('a full-size crop is the identity; a crop of a time ramp follows the bilinear closed form', () => {
    const x = spectrogram(64, 16, 3)
    expect(applyAudioAug({ ...OFF, crop: { top: 0, left: 0, height: 64, width: 16 } }, x, 64, 16)).toEqual(x)
    // value = time index; crop rows [10, 26) resized to 64 rows: torch bilinear, align_corners=False,
    // samples the crop at src = (o + ½)·16/64 − ½, clamped to [0, 15]
    const ramp = new Float32Array(3 * 64 * 16).map((_, k) => Math.floor(k / 16) % 64)
    const y = applyAudioAug({ ...OFF, crop: { top: 10, left: 0, height: 16, width: 16 } }, ramp, 64, 16)
    for (let o = 0; o < 64; o++) {
      const src = Math.min(15, Math.max(0, ((o + 0.5) * 16) / 64 - 0.5))
      for (let f = 0; f < 16; f++) expect(y[64 * 16 + o * 16 + f]).toBeCloseTo(10 + src, 5)
    }
  })

  it('colour jitter clamps the spectrogram into [0, 1] in any op order', () => {
    const x = spectrogram(32, 16, 4)
    const rng = new Rng(5)
    for (let i = 0; i < 20; i++) {
      const order = rng.permutation(4)
      const y = applyAudioAug(
        { ...OFF, colorJitter: { order, brightness: rng.uniform(0.6, 1.4), contrast: rng.uniform(0.6, 1.4), saturation: rng.uniform(0.6, 1.4), hue: rng.uniform(-0.1, 0.1) } },
        x,
        32,
        16
      )
      expect(Math.min(...y)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...y)).toBeLessThanOrEqual(1)
    }
  })

  it('blur uses kernel 2⌈σ⌉ + 1 and leaves a constant spectrogram unchanged', () => {
    expect([0.1, 0.5, 1, 1.01, 1.5, 2].map(audioBlurKernelSize)).toEqual([3, 3, 3, 5, 5, 5])
    const x = new Float32Array(3 * 16 * 8).fill(0.3)
    const y = applyAudioAug({ ...OFF, blurSigma: 1.7 }, x, 16, 8)
    for (const value of y) expect(value).toBeCloseTo(0.3, 6)
  })

  it('runs at the official size in well under a second per clip', () => {
    const x = spectrogram(T, F, 6)
    const rng = new Rng(9)
    const start = performance.now()
    for (let i = 0; i < 5; i++) {
      const { spec } = sampleAudioAugParams(rng, { T, F })
      expect(applyAudioAug(spec, x, T, F).length).toBe(3 * T * F)
    }
    expect((performance.now() - start) / 5).toBeLessThan(1000)
  })
})
