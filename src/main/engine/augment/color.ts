/**
 * Colour jitter on [3, H, W] images (planes R, G, B of `plane` = H·W values), in place, with
 * torchvision's tensor semantics:
 *  - brightness, contrast and saturation blend with black, the mean grey level and the grey image,
 *    then clamp to [0, 1] (which is why the official audio view ends up inside [0, 1]);
 *  - hue goes through HSV and back; only the reconstructed p, q, t terms are clamped, so on a grey
 *    image outside [0, 1] the red channel keeps v while green and blue are clamped (an official quirk
 *    that the audio view inherits when hue runs before any clamping op).
 * The visual view is jittered as a PIL image officially. For inputs in [0, 1] PIL's ops are these same
 * formulas with PIL's luma weights, minus uint8 rounding, so the one implementation serves both with
 * the luma passed in.
 */
import type { Rng } from '../rng'

export type Luma = readonly [number, number, number]
/** torchvision rgb_to_grayscale on tensors (the audio view) */
export const TENSOR_LUMA: Luma = [0.2989, 0.587, 0.114]
/** PIL convert('L'), ITU-R 601-2 (the visual view) */
export const PIL_LUMA: Luma = [0.299, 0.587, 0.114]

/** ColorJitter ranges of the official code: factors in [0.6, 1.4] for b, c, s; hue in [−0.1, 0.1] */
export const JITTER_FACTOR_RANGE: readonly [number, number] = [0.6, 1.4]
export const JITTER_HUE_RANGE: readonly [number, number] = [-0.1, 0.1]
/** order of ops when jitter is off: what the official vector stores then */
export const IDENTITY_ORDER: readonly number[] = [0, 1, 2, 3]

/** op ids as the official order fields store them */
export const JitterOp = { brightness: 0, contrast: 1, saturation: 2, hue: 3 } as const

export interface ColorJitterParams {
  /** permutation of the four ops (JitterOp), applied first to last */
  order: readonly number[]
  brightness: number
  contrast: number
  saturation: number
  /** additive hue shift in turns */
  hue: number
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x
}

/** [plane] grey level of a [3, plane] image */
export function grayscale(img: Float32Array, plane: number, luma: Luma): Float32Array {
  const g = new Float32Array(plane) // [H·W]
  for (let k = 0; k < plane; k++) g[k] = luma[0] * img[k] + luma[1] * img[plane + k] + luma[2] * img[2 * plane + k]
  return g
}

export function adjustBrightness(img: Float32Array, factor: number): void {
  for (let k = 0; k < img.length; k++) img[k] = clamp01(factor * img[k])
}

export function adjustContrast(img: Float32Array, plane: number, factor: number, luma: Luma): void {
  const g = grayscale(img, plane, luma)
  let sum = 0
  for (let k = 0; k < plane; k++) sum += g[k]
  const base = (1 - factor) * (sum / plane)
  for (let k = 0; k < img.length; k++) img[k] = clamp01(factor * img[k] + base)
}

export function adjustSaturation(img: Float32Array, plane: number, factor: number, luma: Luma): void {
  const g = grayscale(img, plane, luma)
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < plane; k++) img[c * plane + k] = clamp01(factor * img[c * plane + k] + (1 - factor) * g[k])
  }
}

// _hsv2rgb picks each channel from (v, p, q, t) by the hue sextant; unlike p, q, t, v is not clamped
const SEXTANT_R = [0, 2, 1, 1, 3, 0]
const SEXTANT_G = [3, 0, 0, 2, 1, 1]
const SEXTANT_B = [1, 1, 3, 0, 0, 2]

/** torchvision _rgb2hsv → shift h → _hsv2rgb, pixel by pixel */
export function adjustHue(img: Float32Array, plane: number, hueFactor: number): void {
  const hsv = new Float64Array(4) // v, p, q, t of the current pixel
  for (let k = 0; k < plane; k++) {
    const r = img[k]
    const g = img[plane + k]
    const b = img[2 * plane + k]
    const maxc = Math.max(r, g, b)
    const minc = Math.min(r, g, b)
    const eqc = maxc === minc
    const cr = maxc - minc
    const s = cr / (eqc ? 1 : maxc)
    const div = eqc ? 1 : cr
    const rc = (maxc - r) / div
    const gc = (maxc - g) / div
    const bc = (maxc - b) / div
    let h: number
    if (maxc === r) h = bc - gc
    else if (maxc === g) h = 2 + rc - bc
    else h = 4 + gc - rc
    h = (h / 6 + 1) % 1
    h += hueFactor
    h -= Math.floor(h) // Python's % 1.0 on tensors: floor modulo
    const i6 = Math.floor(h * 6)
    const f = h * 6 - i6
    const sextant = i6 % 6
    hsv[0] = maxc
    hsv[1] = clamp01(maxc * (1 - s))
    hsv[2] = clamp01(maxc * (1 - s * f))
    hsv[3] = clamp01(maxc * (1 - s * (1 - f)))
    img[k] = hsv[SEXTANT_R[sextant]]
    img[plane + k] = hsv[SEXTANT_G[sextant]]
    img[2 * plane + k] = hsv[SEXTANT_B[sextant]]
  }
}

/** torchvision ColorJitter.get_params with the official ranges, order from a separate permutation */
export function sampleColorJitter(rng: Rng): ColorJitterParams {
  return {
    order: rng.permutation(4),
    brightness: rng.uniform(...JITTER_FACTOR_RANGE),
    contrast: rng.uniform(...JITTER_FACTOR_RANGE),
    saturation: rng.uniform(...JITTER_FACTOR_RANGE),
    hue: rng.uniform(...JITTER_HUE_RANGE)
  }
}

export function applyColorJitter(img: Float32Array, plane: number, params: ColorJitterParams, luma: Luma): void {
  for (const op of params.order) {
    if (op === JitterOp.brightness) adjustBrightness(img, params.brightness)
    else if (op === JitterOp.contrast) adjustContrast(img, plane, params.contrast, luma)
    else if (op === JitterOp.saturation) adjustSaturation(img, plane, params.saturation, luma)
    else adjustHue(img, plane, params.hue)
  }
}

/**
 * Writes the 9 jitter fields at `offset`: on, order ×4, b−1, c−1, s−1, hue. Off gives the official
 * identity defaults: 0, [0, 1, 2, 3], 0, 0, 0, 0.
 */
export function encodeColorJitter(vector: Float32Array, offset: number, params: ColorJitterParams | null): void {
  vector[offset] = params ? 1 : 0
  vector.set(params ? params.order : IDENTITY_ORDER, offset + 1)
  vector[offset + 5] = params ? params.brightness - 1 : 0
  vector[offset + 6] = params ? params.contrast - 1 : 0
  vector[offset + 7] = params ? params.saturation - 1 : 0
  vector[offset + 8] = params ? params.hue : 0
}
