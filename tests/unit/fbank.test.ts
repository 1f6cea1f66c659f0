import { describe, expect, it } from 'vitest'
import {
  AUDIOSET_FBANK_NORM,
  EQUIAV_FBANK_OPTIONS,
  LOG_FLOOR,
  RealFft,
  equiavFbank,
  fbankFrameCount,
  kaldiFbank,
  melBanks,
  melScale,
  normalizeFbank,
  padOrCut
} from '../../src/main/data/fbank'

function naiveDft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length
  const re = new Float64Array(n / 2 + 1)
  const im = new Float64Array(n / 2 + 1)
  for (let k = 0; k <= n / 2; k++) {
    for (let t = 0; t < n; t++) {
      re[k] += x[t] * Math.cos((2 * Math.PI * k * t) / n)
      im[k] -= x[t] * Math.sin((2 * Math.PI * k * t) / n)
    }
  }
  return { re, im }
}

function seeded(n: number, seed: number): Float64Array {
  let s = seed
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 2 ** 31 - 1
  })
}

function sine(freq: number, seconds: number, rate = 16000, amp = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate))
}

describe('RealFft', () => {
  it.each([4, 8, 64, 512])('matches a naive DFT for size %i', (n) => {
    const x = seeded(n, n)
    const fft = new RealFft(n)
    const re = new Float64Array(n / 2 + 1)
    const im = new Float64Array(n / 2 + 1)
    fft.forward(x, re, im)
    const ref = naiveDft(x)
    for (let k = 0; k <= n / 2; k++) {
      expect(re[k]).toBeCloseTo(ref.re[k], 9)
      expect(im[k]).toBeCloseTo(ref.im[k], 9)
    }
  })

  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(400)).toThrow(/power of two/)
  })
})

describe('melBanks', () => {
  const { numMelBins, sampleFrequency, lowFreq } = EQUIAV_FBANK_OPTIONS
  const filters = melBanks(numMelBins, 512, sampleFrequency, lowFreq, 0)
  const dense = filters.map(({ start, weights }) => {
    const row = new Float64Array(256)
    row.set(weights, start)
    return row
  })

  it('has one triangle per bin, each rising then falling, within [0, 1]', () => {
    expect(filters).toHaveLength(128)
    for (const { weights } of filters) {
      let k = 0
      while (k + 1 < weights.length && weights[k + 1] >= weights[k]) k++
      while (k + 1 < weights.length && weights[k + 1] <= weights[k]) k++
      expect(k).toBe(Math.max(0, weights.length - 1))
      for (const w of weights) expect(w).toBeGreaterThanOrEqual(0)
      for (const w of weights) expect(w).toBeLessThanOrEqual(1)
    }
  })

  it('tiles the spectrum: neighbouring triangles sum to 1 between the first and last centres', () => {
    const delta = (melScale(8000) - melScale(lowFreq)) / (numMelBins + 1)
    const firstCentre = melScale(lowFreq) + delta
    const lastCentre = melScale(lowFreq) + numMelBins * delta
    let checked = 0
    for (let k = 0; k < 256; k++) {
      const mel = melScale((k * sampleFrequency) / 512)
      if (mel < firstCentre || mel > lastCentre) continue
      let sum = 0
      for (const row of dense) sum += row[k]
      expect(sum).toBeCloseTo(1, 9)
      checked++
    }
    expect(checked).toBeGreaterThan(200)
  })

  it('matches a hand-computed weight', () => {
    // FFT bin 64 is 2000 Hz; it lies on the falling edge of triangle m, which spans
    // mels [m0 + mδ, m0 + (m+2)δ] with its peak in the middle
    const m0 = melScale(20)
    const delta = (melScale(8000) - m0) / 129
    const k = 64
    const mel = melScale(2000)
    const m = Math.floor((mel - m0) / delta) - 1
    const left = m0 + m * delta
    const centre = left + delta
    const right = centre + delta
    const expected = Math.max(0, Math.min((mel - left) / (centre - left), (right - mel) / (right - centre)))
    expect(expected).toBeGreaterThan(0)
    expect(dense[m][k]).toBeCloseTo(expected, 12)
  })

  it('gives the Nyquist bin and frequencies below low_freq no weight', () => {
    for (const { start, weights } of filters) {
      expect(start + weights.length).toBeLessThanOrEqual(256)
      if (weights.length) expect(start).toBeGreaterThanOrEqual(1) // bin 0 is 0 Hz < 20 Hz
    }
  })

  it('leaves triangle 3 empty: at the bottom a triangle is narrower than the 31.25 Hz FFT bins', () => {
    // a mel step is about 14 Hz near 20 Hz; Kaldi keeps such a bin, and it always reads log(ε)
    expect(filters.map((f, m) => (f.weights.length ? -1 : m)).filter((m) => m >= 0)).toEqual([3])
  })
})

describe('kaldiFbank', () => {
  it('frames like snip_edges: only whole 400-sample windows every 160 samples', () => {
    expect(fbankFrameCount(399)).toBe(0)
    expect(fbankFrameCount(400)).toBe(1)
    expect(fbankFrameCount(559)).toBe(1)
    expect(fbankFrameCount(560)).toBe(2)
    expect(fbankFrameCount(160000)).toBe(998)
    expect(kaldiFbank(new Float32Array(399))).toHaveLength(0)
  })

  it('floors silence at log(float32 epsilon), finite everywhere', () => {
    const fb = equiavFbank(new Float32Array(16000))
    expect(fb).toHaveLength(98 * 128)
    for (const v of fb) expect(v).toBeCloseTo(Math.log(LOG_FLOOR), 5)
    expect(Math.log(LOG_FLOOR)).toBeCloseTo(-15.942385, 5)
  })

  it('removes each frame’s DC: a constant signal is silence', () => {
    const fb = kaldiFbank(new Float32Array(4000).fill(0.3))
    for (const v of fb) expect(v).toBeCloseTo(Math.log(LOG_FLOOR), 5)
  })

  it.each([300, 1000, 4000])('puts a %i Hz sine in the mel bin centred nearest to it', (freq) => {
    const fb = equiavFbank(sine(freq, 0.5))
    const frames = fb.length / 128
    const row = fb.subarray(Math.floor(frames / 2) * 128, Math.floor(frames / 2) * 128 + 128)
    const peak = row.indexOf(Math.max(...row))
    const m0 = melScale(20)
    const delta = (melScale(8000) - m0) / 129
    const expected = Math.round((melScale(freq) - m0) / delta - 1)
    expect(Math.abs(peak - expected)).toBeLessThanOrEqual(1)
  })

  it('is louder by 2·ln(2) in every bin when the signal doubles (power, not magnitude)', () => {
    const quiet = equiavFbank(sine(1000, 0.2, 16000, 0.2))
    const loud = equiavFbank(sine(1000, 0.2, 16000, 0.4))
    for (let i = 0; i < quiet.length; i++) {
      if (quiet[i] > -10) expect(loud[i] - quiet[i]).toBeCloseTo(2 * Math.LN2, 3)
    }
  })
})

describe('padOrCut / normalizeFbank', () => {
  const fb = Float32Array.from({ length: 3 * 128 }, (_, i) => i)

  it('zero-pads short inputs at the end', () => {
    const out = padOrCut(fb, 3, 5)
    expect(out).toHaveLength(5 * 128)
    expect(Array.from(out.subarray(0, 3 * 128))).toEqual(Array.from(fb))
    expect(out.subarray(3 * 128).every((v) => v === 0)).toBe(true)
  })

  it('cuts long inputs to the first frames', () => {
    expect(Array.from(padOrCut(fb, 3, 2))).toEqual(Array.from(fb.subarray(0, 256)))
  })

  it('checks the frame count', () => {
    expect(() => padOrCut(fb, 4, 5)).toThrow(/expected 4 frames/)
  })

  it('normalises padding too: zeros become −mean/std', () => {
    const out = normalizeFbank(padOrCut(fb, 3, 4), AUDIOSET_FBANK_NORM.mean, AUDIOSET_FBANK_NORM.std)
    expect(out[0]).toBeCloseTo(4.346 / 4.332, 6)
    expect(out[10]).toBeCloseTo((10 + 4.346) / 4.332, 5)
    expect(out[3 * 128]).toBeCloseTo(4.346 / 4.332, 6)
  })
})
