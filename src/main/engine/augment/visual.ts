/**
 * The augmented visual view and its 18-d parameter vector t_v (official `_get_transform_v` /
 * `sample_t_v`, ../shared/EQUIAV.md §2), built from a raw RGB frame [3, H, W] in [0, 1]. Ops in the
 * official order: random resized crop → colour jitter → Gaussian blur → horizontal flip → grayscale
 * (→ quarter-turn rotation → vertical flip for the 21-d variant). ImageNet normalisation is separate
 * (normalizeImageNet), as the official ToTensor + Normalize come last.
 *
 * The official view runs PIL ops on a uint8 image; here they run in float32 without the uint8 rounding.
 * PIL's GaussianBlur(radius=σ) approximates a Gaussian of standard deviation σ over its full extent
 * with repeated box blurs and replicated borders; we use the true Gaussian truncated at ⌈3σ⌉ with
 * replicated borders.
 */
import { gaussianBlur, sampleBlurSigma } from './blur'
import { applyColorJitter, type ColorJitterParams, encodeColorJitter, grayscale, PIL_LUMA, sampleColorJitter } from './color'
import { type CropBox, encodeCrop, randomResizedCropParams, resizedCrop } from './crop'
import { flipHorizontal, flipVertical, rotateQuarterTurns } from './geometry'
import type { Rng } from '../rng'
import type { InputNorm } from '../config'

/** officially defined vector lengths: 16 RRC+CJ+GB, 18 +HF+GS, 21 +FR+VF */
export const VISUAL_AUG_SIZES = [16, 18, 21] as const
export type VisualAugSize = (typeof VISUAL_AUG_SIZES)[number]

/** field positions in t_v */
export const VISUAL_AUG_INDEX = {
  cropOn: 0,
  cropTop: 1,
  cropLeft: 2,
  cropHeight: 3,
  cropWidth: 4,
  jitterOn: 5,
  jitterOrder: 6,
  jitterBrightness: 10,
  jitterContrast: 11,
  jitterSaturation: 12,
  jitterHue: 13,
  blurOn: 14,
  blurSigma: 15,
  hflip: 16,
  grayscale: 17,
  rotationOn: 18,
  rotation: 19,
  vflip: 20
} as const

const CROP_SCALE: readonly [number, number] = [0.08, 1]
const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3]
const P_JITTER = 0.8
const P_BLUR = 0.5
const P_FLIP = 0.5
const P_GRAY = 0.2
const P_ROTATE = 0.5
const P_VFLIP = 0.5

export interface VisualAugOptions {
  /** height of the frame the crop is drawn from (the virtual vectors use imgSize, as the official 224) */
  H: number
  W: number
  /** length of t_v; default 18 */
  augSize?: VisualAugSize
}

/** What applyVisualAug does; null / false = that augmentation is off. */
export interface VisualAugSpec {
  crop: CropBox
  colorJitter: ColorJitterParams | null
  blurSigma: number | null
  hflip: boolean
  grayscale: boolean
  /** counter-clockwise quarter turns 0–3 when the rotation is on (0 is a legal draw) */
  rotation: number | null
  vflip: boolean
}

export interface VisualAugParams {
  /** [augSize] t_v */
  vector: Float32Array
  spec: VisualAugSpec
}

export function visualAugSize(size: number): VisualAugSize {
  const found = VISUAL_AUG_SIZES.find((s) => s === size)
  if (found === undefined) throw new Error(`visual augmentation size must be one of ${VISUAL_AUG_SIZES.join(', ')}; got ${size}`)
  return found
}

export function sampleVisualAugParams(rng: Rng, opts: VisualAugOptions): VisualAugParams {
  const { H, W } = opts
  const size = visualAugSize(opts.augSize ?? 18)
  const I = VISUAL_AUG_INDEX
  const vector = new Float32Array(size) // [augSize]
  const crop = randomResizedCropParams(rng, H, W, CROP_SCALE, CROP_RATIO)
  const spec: VisualAugSpec = { crop, colorJitter: null, blurSigma: null, hflip: false, grayscale: false, rotation: null, vflip: false }
  encodeCrop(vector, I, crop, H, W)

  spec.colorJitter = rng.uniform() < P_JITTER ? sampleColorJitter(rng) : null
  encodeColorJitter(vector, I.jitterOn, spec.colorJitter)
  if (rng.uniform() < P_BLUR) {
    spec.blurSigma = sampleBlurSigma(rng)
    vector[I.blurOn] = 1
    vector[I.blurSigma] = spec.blurSigma
  }
  if (size >= 18) {
    spec.hflip = rng.uniform() < P_FLIP
    spec.grayscale = rng.uniform() < P_GRAY
    vector[I.hflip] = spec.hflip ? 1 : 0
    vector[I.grayscale] = spec.grayscale ? 1 : 0
  }
  if (size >= 21) {
    if (rng.uniform() < P_ROTATE) {
      spec.rotation = rng.randint(0, 4)
      vector[I.rotationOn] = 1
      vector[I.rotation] = spec.rotation
    }
    spec.vflip = rng.uniform() < P_VFLIP
    vector[I.vflip] = spec.vflip ? 1 : 0
  }
  return { vector, spec }
}

/** visual blur kernel: 2⌈3σ⌉ + 1 taps, covering PIL's near-Gaussian blur of radius σ */
export function visualBlurKernelSize(sigma: number): number {
  return 2 * Math.ceil(3 * sigma) + 1
}

/** raw frame [3, H, W] in [0, 1] → augmented [3, outSize, outSize], still in [0, 1] */
export function applyVisualAug(spec: VisualAugSpec, frame: Float32Array, H: number, W: number, outSize: number): Float32Array {
  if (frame.length !== 3 * H * W) throw new Error(`frame must be [3, ${H}, ${W}], got ${frame.length} values`)
  const S = outSize
  const plane = S * S
  let out = resizedCrop(frame, 3, H, W, spec.crop, S, S) // [3, S, S]
  if (spec.colorJitter) applyColorJitter(out, plane, spec.colorJitter, PIL_LUMA)
  if (spec.blurSigma !== null) out = gaussianBlur(out, 3, S, S, spec.blurSigma, visualBlurKernelSize(spec.blurSigma), 'edge')
  if (spec.hflip) out = flipHorizontal(out, 3, S, S)
  if (spec.grayscale) {
    const g = grayscale(out, plane, PIL_LUMA)
    for (let c = 0; c < 3; c++) out.set(g, c * plane)
  }
  if (spec.rotation !== null) out = rotateQuarterTurns(out, 3, S, spec.rotation)
  if (spec.vflip) out = flipVertical(out, 3, S, S)
  return out
}

/** [3, H, W] in [0, 1] → (x − mean[c]) / std[c] per channel (a new array); the official statistics are ImageNet's */
export function normalizeFrame(frame: Float32Array, norm: InputNorm['frame']): Float32Array {
  if (frame.length % 3 !== 0) throw new Error('frame must have 3 channels')
  const plane = frame.length / 3
  const out = new Float32Array(frame.length) // [3, H, W]
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < plane; k++) out[c * plane + k] = (frame[c * plane + k] - norm.mean[c]) / norm.std[c]
  }
  return out
}
