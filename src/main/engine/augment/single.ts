/**
 * One augmentation at a time, at a chosen strength, with the parameter vector the official samplers would
 * write for it and every other part at its identity value (the equivariance probe's inputs):
 *  - off parts are encoded as the official code encodes them when off (0, jitter order [0, 1, 2, 3]);
 *  - the crop, which the official pipelines always apply, is the full input when it is not the part probed
 *    (encoded with the official normalisers, swap quirk included, and not applied since it is the identity).
 */
import { type AudioAugSpec, AUDIO_AUG_INDEX, audioAugSize, defaultMaskWidths, encodeAudioCrop } from './audio'
import { type ColorJitterParams, encodeColorJitter } from './color'
import { type CropBox, encodeCrop } from './crop'
import type { Rng } from '../rng'
import { type VisualAugSpec, VISUAL_AUG_INDEX, visualAugSize } from './visual'

export type AudioAugKind = 'specaug' | 'rrc' | 'colour-jitter' | 'blur' | 'hflip'
export type VisualAugKind = 'rrc' | 'colour-jitter' | 'blur' | 'hflip' | 'grayscale'

/** Strength levels probed per kind: mask width / area kept / factor deviation / σ; 1 for on-off augmentations. */
export const AUDIO_STRENGTHS: Record<AudioAugKind, readonly number[]> = {
  specaug: [0.5, 1],
  rrc: [0.75, 0.5, 0.25],
  'colour-jitter': [0.1, 0.2, 0.4],
  blur: [0.5, 1, 2],
  hflip: [1]
}
export const VISUAL_STRENGTHS: Record<VisualAugKind, readonly number[]> = {
  rrc: [0.75, 0.5, 0.25],
  'colour-jitter': [0.1, 0.2, 0.4],
  blur: [0.5, 1, 2],
  hflip: [1],
  grayscale: [1]
}

export interface SingleAug<S> {
  spec: S
  /** [augSize] */
  vector: Float32Array
}

/** A crop keeping `area` of the input with its aspect, at a random position. */
function cropOfArea(rng: Rng, height: number, width: number, area: number): CropBox {
  const h = Math.max(1, Math.round(height * Math.sqrt(area)))
  const w = Math.max(1, Math.round(width * Math.sqrt(area)))
  return { top: rng.randint(0, height - h + 1), left: rng.randint(0, width - w + 1), height: h, width: w }
}

/** Brightness, contrast and saturation 1 ± level, hue ±level/4 (inside the official ±0.1 for level ≤ 0.4), random signs and order. */
function jitterOfLevel(rng: Rng, level: number): ColorJitterParams {
  const sign = (): number => (rng.uniform() < 0.5 ? -1 : 1)
  return { order: rng.permutation(4), brightness: 1 + sign() * level, contrast: 1 + sign() * level, saturation: 1 + sign() * level, hue: (sign() * level) / 4 }
}

/** Writes only the fields that exist in a vector of this length (shorter official variants drop the later parts). */
function writer(vector: Float32Array): (index: number, value: number) => void {
  return (index, value) => {
    if (index < vector.length) vector[index] = value
  }
}

/** Colour jitter, blur or flip, which both modalities have: into the spec, and into the vector at the modality's indices. */
function setShared(kind: 'colour-jitter' | 'blur' | 'hflip', level: number, rng: Rng, spec: Pick<AudioAugSpec, 'colorJitter' | 'blurSigma' | 'hflip'>, vector: Float32Array, I: typeof VISUAL_AUG_INDEX | typeof AUDIO_AUG_INDEX): void {
  const set = writer(vector)
  if (kind === 'colour-jitter') {
    spec.colorJitter = jitterOfLevel(rng, level)
    encodeColorJitter(vector, I.jitterOn, spec.colorJitter)
  } else if (kind === 'blur') {
    spec.blurSigma = level
    set(I.blurOn, 1)
    set(I.blurSigma, level)
  } else {
    spec.hflip = true
    set(I.hflip, 1)
  }
}

export function identityAudioAug(T: number, F: number, augSize = 24): SingleAug<AudioAugSpec> {
  const vector = new Float32Array(audioAugSize(augSize))
  const I = AUDIO_AUG_INDEX
  // the full crop, encoded as the official code does (time extent T over F, mel extent F over T)
  if (vector.length > I.cropWidth) encodeAudioCrop(vector, { top: 0, left: 0, height: T, width: F }, T, F)
  if (vector.length > I.jitterHue) encodeColorJitter(vector, I.jitterOn, null)
  return { vector, spec: { timeMask: null, freqMask: null, timeShift: null, crop: null, colorJitter: null, blurSigma: null, hflip: false } }
}

export function singleAudioAug(kind: AudioAugKind, level: number, rng: Rng, o: { T: number; F: number; augSize?: number; timem?: number; freqm?: number }): SingleAug<AudioAugSpec> {
  const { T, F } = o
  const { vector, spec } = identityAudioAug(T, F, o.augSize)
  const set = writer(vector)
  const I = AUDIO_AUG_INDEX
  if (kind === 'specaug') {
    const mask = (maxWidth: number, length: number): { start: number; end: number } => {
      const width = Math.floor(level * maxWidth)
      const start = rng.randint(0, length - width + 1)
      return { start, end: start + width }
    }
    spec.timeMask = mask(o.timem ?? defaultMaskWidths(T, F).timem, T)
    spec.freqMask = mask(o.freqm ?? defaultMaskWidths(T, F).freqm, F)
    set(I.specAugOn, 1)
    set(I.timeMaskStart, spec.timeMask.start)
    set(I.timeMaskEnd, spec.timeMask.end)
    set(I.freqMaskStart, spec.freqMask.start)
    set(I.freqMaskEnd, spec.freqMask.end)
    set(I.timeShiftOn, 1) // encoded with the masks officially; the shift itself is 0 (and never applied)
  } else if (kind === 'rrc') {
    spec.crop = cropOfArea(rng, T, F, level)
    encodeAudioCrop(vector, spec.crop, T, F)
  } else setShared(kind, level, rng, spec, vector, I)
  return { spec, vector }
}

export function identityVisualAug(H: number, W: number, augSize = 18): SingleAug<VisualAugSpec> {
  const vector = new Float32Array(visualAugSize(augSize))
  const I = VISUAL_AUG_INDEX
  const crop = { top: 0, left: 0, height: H, width: W }
  encodeCrop(vector, I, crop, H, W)
  encodeColorJitter(vector, I.jitterOn, null)
  return { vector, spec: { crop, colorJitter: null, blurSigma: null, hflip: false, grayscale: false, rotation: null, vflip: false } }
}

export function singleVisualAug(kind: VisualAugKind, level: number, rng: Rng, o: { H: number; W: number; augSize?: number }): SingleAug<VisualAugSpec> {
  const { vector, spec } = identityVisualAug(o.H, o.W, o.augSize)
  const I = VISUAL_AUG_INDEX
  if (kind === 'rrc') {
    spec.crop = cropOfArea(rng, o.H, o.W, level)
    encodeCrop(vector, I, spec.crop, o.H, o.W)
  } else if (kind === 'grayscale') {
    spec.grayscale = true
    writer(vector)(I.grayscale, 1)
  } else setShared(kind, level, rng, spec, vector, I)
  return { spec, vector }
}
