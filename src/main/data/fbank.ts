/**
 * Kaldi log-mel filterbank, numerically the same as torchaudio.compliance.kaldi.fbank, in plain
 * TypeScript (tfjs has no FFT kernels on wasm). Pure numerics: no IO.
 *
 * Per frame: DC removal → pre-emphasis → window → zero-pad to a power of two → real FFT → power
 * spectrum → triangular mel filters (htk mel scale) → log with a float32-epsilon floor.
 * Arithmetic is float64; the output is float32 [frames × numMelBins], row-major.
 */

export interface KaldiFbankOptions {
  /** Hz */
  sampleFrequency: number
  /** ms */
  frameLength: number
  /** ms */
  frameShift: number
  numMelBins: number
  /** Hz */
  lowFreq: number
  /** Hz; ≤ 0 means that far below Nyquist (Kaldi's convention) */
  highFreq: number
  preemphasisCoefficient: number
  /** torch.hann_window(periodic=False), as torchaudio builds it for 'hanning' */
  windowType: 'hanning'
}

/** Kaldi's defaults with the settings EquiAV (after CAV-MAE) passes: hanning window, 128 bins, 10 ms shift. */
export const EQUIAV_FBANK_OPTIONS: Readonly<KaldiFbankOptions> = {
  sampleFrequency: 16000,
  frameLength: 25,
  frameShift: 10,
  numMelBins: 128,
  lowFreq: 20,
  highFreq: 0,
  preemphasisCoefficient: 0.97,
  windowType: 'hanning'
}

/** Dataset statistics of the raw fbank; normalisation is (x − mean) / std (not 2·std). */
export interface FbankNorm {
  mean: number
  std: number
}
export const AUDIOSET_FBANK_NORM: Readonly<FbankNorm> = { mean: -4.346, std: 4.332 }

/** numeric_limits<float>::epsilon(): Kaldi's floor before the log */
export const LOG_FLOOR = 1.1920928955078125e-7

// ------------------------------------------------------------------------------------------- real FFT

/**
 * Real-input FFT of a fixed power-of-two size n: one complex FFT of size n/2 over the even/odd
 * samples packed as re/im, then split into the n/2 + 1 non-negative-frequency bins.
 */
export class RealFft {
  readonly size: number
  private readonly half: number
  private readonly bitReverse: Uint32Array
  /** e^{-2πij/half}, j < half/2 */
  private readonly twRe: Float64Array
  private readonly twIm: Float64Array
  /** e^{-2πik/size}, k ≤ half, for the even/odd split */
  private readonly splitRe: Float64Array
  private readonly splitIm: Float64Array
  private readonly zRe: Float64Array
  private readonly zIm: Float64Array

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0) throw new Error(`RealFft size must be a power of two ≥ 4, got ${size}`)
    this.size = size
    const half = size / 2
    this.half = half
    const bits = Math.log2(half)
    this.bitReverse = new Uint32Array(half)
    for (let i = 0; i < half; i++) {
      let r = 0
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
      this.bitReverse[i] = r
    }
    this.twRe = new Float64Array(half / 2)
    this.twIm = new Float64Array(half / 2)
    for (let j = 0; j < half / 2; j++) {
      this.twRe[j] = Math.cos((2 * Math.PI * j) / half)
      this.twIm[j] = -Math.sin((2 * Math.PI * j) / half)
    }
    this.splitRe = new Float64Array(half + 1)
    this.splitIm = new Float64Array(half + 1)
    for (let k = 0; k <= half; k++) {
      this.splitRe[k] = Math.cos((2 * Math.PI * k) / size)
      this.splitIm[k] = -Math.sin((2 * Math.PI * k) / size)
    }
    this.zRe = new Float64Array(half)
    this.zIm = new Float64Array(half)
  }

  /** X[k] = Σ_t x[t]·e^{-2πikt/n} for k = 0..n/2, into re/im (each at least n/2 + 1 long). */
  forward(x: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const { half, zRe, zIm, bitReverse } = this
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i]
      zRe[j] = x[2 * i]
      zIm[j] = x[2 * i + 1]
    }
    // iterative radix-2 butterflies; the twiddle stride halves as the span doubles
    for (let span = 1; span < half; span *= 2) {
      const stride = half / (2 * span)
      for (let start = 0; start < half; start += 2 * span) {
        for (let j = 0; j < span; j++) {
          const wr = this.twRe[j * stride]
          const wi = this.twIm[j * stride]
          const a = start + j
          const b = a + span
          const br = zRe[b] * wr - zIm[b] * wi
          const bi = zRe[b] * wi + zIm[b] * wr
          zRe[b] = zRe[a] - br
          zIm[b] = zIm[a] - bi
          zRe[a] += br
          zIm[a] += bi
        }
      }
    }
    // Z holds E + iO, with E/O the transforms of the even/odd samples: X[k] = E[k] + W^k·O[k]
    for (let k = 0; k <= half; k++) {
      const a = k % half
      const b = (half - k) % half
      const er = (zRe[a] + zRe[b]) / 2
      const ei = (zIm[a] - zIm[b]) / 2
      const or = (zIm[a] + zIm[b]) / 2
      const oi = (zRe[b] - zRe[a]) / 2
      const wr = this.splitRe[k]
      const wi = this.splitIm[k]
      re[k] = er + or * wr - oi * wi
      im[k] = ei + or * wi + oi * wr
    }
  }
}

// ------------------------------------------------------------------------------------------ mel banks

/** Kaldi/HTK mel scale */
export function melScale(hz: number): number {
  return 1127 * Math.log(1 + hz / 700)
}

/** One triangular filter, stored from its first non-zero FFT bin. */
export interface MelFilter {
  start: number
  weights: Float64Array
}

/**
 * Kaldi's mel bank: numMelBins triangles equally spaced on the mel scale between lowFreq and
 * highFreq, each spanning its two neighbours' centres, evaluated at the FFT bin frequencies
 * k·fs/paddedSize for k < paddedSize/2 (the Nyquist bin gets no weight).
 */
export function melBanks(numMelBins: number, paddedSize: number, sampleFrequency: number, lowFreq: number, highFreq: number): MelFilter[] {
  const nyquist = sampleFrequency / 2
  const high = highFreq <= 0 ? highFreq + nyquist : highFreq
  if (numMelBins <= 3) throw new Error(`need more than 3 mel bins, got ${numMelBins}`)
  if (!(lowFreq >= 0 && lowFreq < nyquist && high > 0 && high <= nyquist && lowFreq < high)) {
    throw new Error(`bad mel range: low ${lowFreq} Hz, high ${high} Hz, Nyquist ${nyquist} Hz`)
  }
  const fftBins = paddedSize / 2
  const binWidth = sampleFrequency / paddedSize
  const melLow = melScale(lowFreq)
  const delta = (melScale(high) - melLow) / (numMelBins + 1)
  const filters: MelFilter[] = []
  for (let m = 0; m < numMelBins; m++) {
    const left = melLow + m * delta
    const centre = melLow + (m + 1) * delta
    const right = melLow + (m + 2) * delta
    const dense = new Float64Array(fftBins)
    let first = -1
    let last = -1
    for (let k = 0; k < fftBins; k++) {
      const mel = melScale(binWidth * k)
      const w = Math.max(0, Math.min((mel - left) / (centre - left), (right - mel) / (right - centre)))
      dense[k] = w
      if (w > 0) {
        if (first < 0) first = k
        last = k
      }
    }
    filters.push(first < 0 ? { start: 0, weights: new Float64Array(0) } : { start: first, weights: dense.slice(first, last + 1) })
  }
  return filters
}

// --------------------------------------------------------------------------------------------- fbank

/** torch.hann_window(n, periodic=False) */
function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n)
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1))
  return w
}

function nextPowerOfTwo(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** Frames Kaldi's snip_edges framing yields: only windows that fit entirely. */
export function fbankFrameCount(samples: number, options: Pick<KaldiFbankOptions, 'sampleFrequency' | 'frameLength' | 'frameShift'> = EQUIAV_FBANK_OPTIONS): number {
  const windowSize = Math.trunc(options.sampleFrequency * options.frameLength * 0.001)
  const shift = Math.trunc(options.sampleFrequency * options.frameShift * 0.001)
  return samples < windowSize ? 0 : 1 + Math.floor((samples - windowSize) / shift)
}

interface FbankPlan {
  windowSize: number
  shift: number
  window: Float64Array
  fft: RealFft
  filters: MelFilter[]
}

const plans = new Map<string, FbankPlan>()

function planFor(o: KaldiFbankOptions): FbankPlan {
  const key = JSON.stringify(o)
  let plan = plans.get(key)
  if (!plan) {
    const windowSize = Math.trunc(o.sampleFrequency * o.frameLength * 0.001)
    const shift = Math.trunc(o.sampleFrequency * o.frameShift * 0.001)
    if (windowSize < 2 || shift < 1) throw new Error(`frame length ${o.frameLength} ms / shift ${o.frameShift} ms too short at ${o.sampleFrequency} Hz`)
    const padded = nextPowerOfTwo(windowSize)
    plan = {
      windowSize,
      shift,
      window: hannWindow(windowSize),
      fft: new RealFft(padded),
      filters: melBanks(o.numMelBins, padded, o.sampleFrequency, o.lowFreq, o.highFreq)
    }
    plans.set(key, plan)
  }
  return plan
}

/**
 * torchaudio.compliance.kaldi.fbank with dither 0, use_energy false, snip_edges true, use_power
 * true, log on. The caller removes the waveform mean if it wants to (see equiavFbank).
 * Returns [frames × numMelBins]; no frames when the waveform is shorter than one window.
 */
export function kaldiFbank(waveform: ArrayLike<number>, options: KaldiFbankOptions = EQUIAV_FBANK_OPTIONS): Float32Array {
  const { windowSize, shift, window, fft, filters } = planFor(options)
  const bins = options.numMelBins
  const frames = fbankFrameCount(waveform.length, options)
  const out = new Float32Array(frames * bins) // [frames, bins]
  const padded = new Float64Array(fft.size) // the tail past windowSize stays zero
  const re = new Float64Array(fft.size / 2 + 1)
  const im = new Float64Array(fft.size / 2 + 1)
  const power = new Float64Array(fft.size / 2 + 1)
  const c = options.preemphasisCoefficient
  for (let f = 0; f < frames; f++) {
    const offset = f * shift
    let sum = 0
    for (let i = 0; i < windowSize; i++) sum += waveform[offset + i]
    const mean = sum / windowSize
    for (let i = 0; i < windowSize; i++) padded[i] = waveform[offset + i] - mean
    // pre-emphasis against the previous sample, the first against itself (replicate padding)
    for (let i = windowSize - 1; i > 0; i--) padded[i] -= c * padded[i - 1]
    padded[0] -= c * padded[0]
    for (let i = 0; i < windowSize; i++) padded[i] *= window[i]
    fft.forward(padded, re, im)
    for (let k = 0; k < power.length; k++) power[k] = re[k] * re[k] + im[k] * im[k]
    const row = f * bins
    for (let m = 0; m < bins; m++) {
      const { start, weights } = filters[m]
      let energy = 0
      for (let j = 0; j < weights.length; j++) energy += weights[j] * power[start + j]
      out[row + m] = Math.log(Math.max(energy, LOG_FLOOR))
    }
  }
  return out
}

/** The official EquiAV/CAV-MAE audio recipe: fbank of (waveform − its mean) with EQUIAV_FBANK_OPTIONS. Raw, not padded or normalised. */
export function equiavFbank(waveform: Float32Array, sampleRate = EQUIAV_FBANK_OPTIONS.sampleFrequency): Float32Array {
  let sum = 0
  for (let i = 0; i < waveform.length; i++) sum += waveform[i]
  const mean = waveform.length ? sum / waveform.length : 0
  const centred = new Float64Array(waveform.length)
  for (let i = 0; i < waveform.length; i++) centred[i] = waveform[i] - mean
  return kaldiFbank(centred, { ...EQUIAV_FBANK_OPTIONS, sampleFrequency: sampleRate })
}

/** Zero-pad (with 0.0, before normalising, as the official loader does) or cut [frames × bins] to targetLength frames. */
export function padOrCut(fbank: Float32Array, frames: number, targetLength: number, bins = EQUIAV_FBANK_OPTIONS.numMelBins): Float32Array {
  if (fbank.length !== frames * bins) throw new Error(`fbank has ${fbank.length} values, expected ${frames} frames × ${bins} bins`)
  const out = new Float32Array(targetLength * bins) // [targetLength, bins]
  out.set(fbank.subarray(0, Math.min(frames, targetLength) * bins))
  return out
}

/** (x − mean) / std, into a new array. */
export function normalizeFbank(x: Float32Array, mean: number, std: number): Float32Array {
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) / std
  return out
}
