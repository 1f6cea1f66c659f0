/**
 * The augmented audio view and its 24-d parameter vector t_a (official `_get_transform_a` /
 * `sample_t_a`, ../shared/EQUIAV.md §2). Input: the normalised, rolled fbank tiled to [3, T, F]
 * (channel, time, mel). Ops in the official order: SpecAugment masks → (time shift, encoded only) →
 * random resized crop → colour jitter → Gaussian blur → flip of the mel axis.
 *
 * Generalisation to other input sizes (identical to the official code at T = 1024, F = 128):
 *  - mask widths default to timem = round(192·T/1024) and freqm = round(48·F/128);
 *  - the time shift is encoded as shift/T;
 *  - the crop's normalisers keep the official swap: top and height (time) are divided by F, left and
 *    width (mel) by T — the pretrained augmentation encoder learned that scaling;
 *  - the crop's aspect range (1/10, 1.5/8) is in mel/time pixels for a 1024 × 128 input; it is scaled by
 *    (F/T)/(128/1024) so a shorter input gets crops of the same relative shape instead of falling back to
 *    the central crop nearly always.
 */
import { gaussianBlur, sampleBlurSigma } from './blur'
import { applyColorJitter, type ColorJitterParams, encodeColorJitter, sampleColorJitter, TENSOR_LUMA } from './color'
import { type CropBox, encodeCrop, randomResizedCropParams, resizedCrop } from './crop'
import { flipHorizontal } from './geometry'
import type { Rng } from '../rng'

/** officially defined vector lengths: 7 SA+TS, 12 +RRC, 21 +CJ, 23 +GB, 24 +HF */
export const AUDIO_AUG_SIZES = [7, 12, 21, 23, 24] as const
export type AudioAugSize = (typeof AUDIO_AUG_SIZES)[number]

/** field positions in t_a */
export const AUDIO_AUG_INDEX = {
  specAugOn: 0,
  timeMaskStart: 1,
  timeMaskEnd: 2,
  freqMaskStart: 3,
  freqMaskEnd: 4,
  timeShiftOn: 5,
  timeShift: 6,
  cropOn: 7,
  cropTop: 8,
  cropLeft: 9,
  cropHeight: 10,
  cropWidth: 11,
  jitterOn: 12,
  jitterOrder: 13,
  jitterBrightness: 17,
  jitterContrast: 18,
  jitterSaturation: 19,
  jitterHue: 20,
  blurOn: 21,
  blurSigma: 22,
  hflip: 23
} as const

const OFFICIAL_T = 1024
const OFFICIAL_F = 128
const OFFICIAL_TIMEM = 192
const OFFICIAL_FREQM = 48
const CROP_SCALE: readonly [number, number] = [0.08, 1]
const CROP_RATIO: readonly [number, number] = [1 / 10, 1.5 / 8]
const P_SPEC_AUG = 0.8
const P_JITTER = 0.8
const P_BLUR = 0.5
const P_FLIP = 0.5

export interface AudioAugOptions {
  /** frames (official 1024) */
  T: number
  /** mel bins (official 128) */
  F: number
  /** maximum time-mask width; default round(192·T/1024) */
  timem?: number
  /** maximum frequency-mask width; default round(48·F/128) */
  freqm?: number
  /** length of t_a; default 24 */
  augSize?: AudioAugSize
}

/** half-open index range [start, end); empty when start = end */
export interface MaskRange {
  start: number
  end: number
}

/** What applyAudioAug does; null / false = that augmentation is off. */
export interface AudioAugSpec {
  timeMask: MaskRange | null
  freqMask: MaskRange | null
  /** drawn and encoded but never applied (the official roll acts on the channel axis: a no-op) */
  timeShift: number | null
  crop: CropBox | null
  colorJitter: ColorJitterParams | null
  blurSigma: number | null
  /** reverse the mel axis */
  hflip: boolean
}

export interface AudioAugParams {
  /** [augSize] t_a */
  vector: Float32Array
  spec: AudioAugSpec
}

/**
 * torchaudio-style mask_along_axis: width v ~ U(0, maxWidth), start = ⌊U(0, length − v)⌋,
 * end = start + ⌊v⌋; a maximum below 1 masks nothing and reports [0, 0).
 */
function sampleMask(rng: Rng, maxWidth: number, length: number): MaskRange {
  if (maxWidth < 1) return { start: 0, end: 0 }
  const width = rng.uniform() * maxWidth
  const start = Math.floor(rng.uniform() * (length - width))
  return { start, end: start + Math.floor(width) }
}

/** SpecAugment's maximum mask widths for a T × F input: the official 192 frames and 48 bins at 1024 × 128, scaled. */
export function defaultMaskWidths(T: number, F: number): { timem: number; freqm: number } {
  return { timem: Math.round((OFFICIAL_TIMEM * T) / OFFICIAL_T), freqm: Math.round((OFFICIAL_FREQM * F) / OFFICIAL_F) }
}

/**
 * The crop's part of t_a. The crop box is in (time, mel) pixels of the T × F fbank, and the official code
 * divides its time extents (top, height) by F and its mel extents (left, width) by T: the normalisers are
 * swapped, and kept so because a pretrained predictor learned them.
 */
export function encodeAudioCrop(vector: Float32Array, crop: CropBox, T: number, F: number): void {
  encodeCrop(vector, AUDIO_AUG_INDEX, crop, F, T)
}

export function audioAugSize(size: number): AudioAugSize {
  const found = AUDIO_AUG_SIZES.find((s) => s === size)
  if (found === undefined) throw new Error(`audio augmentation size must be one of ${AUDIO_AUG_SIZES.join(', ')}; got ${size}`)
  return found
}

export function sampleAudioAugParams(rng: Rng, opts: AudioAugOptions): AudioAugParams {
  const { T, F } = opts
  const size = audioAugSize(opts.augSize ?? 24)
  const timem = opts.timem ?? defaultMaskWidths(T, F).timem
  const freqm = opts.freqm ?? defaultMaskWidths(T, F).freqm
  const I = AUDIO_AUG_INDEX
  const vector = new Float32Array(size) // [augSize]
  const spec: AudioAugSpec = { timeMask: null, freqMask: null, timeShift: null, crop: null, colorJitter: null, blurSigma: null, hflip: false }

  if (rng.uniform() < P_SPEC_AUG) {
    spec.timeMask = sampleMask(rng, timem, T)
    spec.freqMask = sampleMask(rng, freqm, F)
    spec.timeShift = rng.randint(-T, T)
    vector[I.specAugOn] = 1
    vector[I.timeMaskStart] = spec.timeMask.start
    vector[I.timeMaskEnd] = spec.timeMask.end
    vector[I.freqMaskStart] = spec.freqMask.start
    vector[I.freqMaskEnd] = spec.freqMask.end
    vector[I.timeShiftOn] = 1
    vector[I.timeShift] = spec.timeShift / T
  }
  if (size >= 12) {
    const aspectScale = F / T / (OFFICIAL_F / OFFICIAL_T)
    const ratio: [number, number] = [CROP_RATIO[0] * aspectScale, CROP_RATIO[1] * aspectScale]
    spec.crop = randomResizedCropParams(rng, T, F, CROP_SCALE, ratio)
    encodeAudioCrop(vector, spec.crop, T, F)
  }
  if (size >= 21) {
    spec.colorJitter = rng.uniform() < P_JITTER ? sampleColorJitter(rng) : null
    encodeColorJitter(vector, I.jitterOn, spec.colorJitter)
  }
  if (size >= 23 && rng.uniform() < P_BLUR) {
    spec.blurSigma = sampleBlurSigma(rng)
    vector[I.blurOn] = 1
    vector[I.blurSigma] = spec.blurSigma
  }
  if (size >= 24 && rng.uniform() < P_FLIP) {
    spec.hflip = true
    vector[I.hflip] = 1
  }
  return { vector, spec }
}

/** official kernel size for the audio blur: 2⌈σ⌉ + 1 (reflect padding, torchvision tensor op) */
export function audioBlurKernelSize(sigma: number): number {
  return 2 * Math.ceil(sigma) + 1
}

/** [3, T, F] → augmented [3, T, F] (a new array; `x` is left untouched) */
export function applyAudioAug(spec: AudioAugSpec, x: Float32Array, T: number, F: number): Float32Array {
  if (x.length !== 3 * T * F) throw new Error(`audio view must be [3, ${T}, ${F}], got ${x.length} values`)
  let out: Float32Array = x.slice() // [3, T, F]
  if (spec.timeMask) {
    for (let c = 0; c < 3; c++) out.fill(0, (c * T + spec.timeMask.start) * F, (c * T + spec.timeMask.end) * F)
  }
  if (spec.freqMask) {
    for (let row = 0; row < 3 * T; row++) out.fill(0, row * F + spec.freqMask.start, row * F + spec.freqMask.end)
  }
  if (spec.crop) out = resizedCrop(out, 3, T, F, spec.crop, T, F)
  if (spec.colorJitter) applyColorJitter(out, T * F, spec.colorJitter, TENSOR_LUMA)
  if (spec.blurSigma !== null) out = gaussianBlur(out, 3, T, F, spec.blurSigma, audioBlurKernelSize(spec.blurSigma), 'reflect')
  if (spec.hflip) out = flipHorizontal(out, 3, T, F)
  return out
}
