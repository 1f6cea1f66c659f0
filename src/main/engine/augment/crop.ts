/**
 * Random resized crop: torchvision's RandomResizedCrop.get_params, and the crop-then-resize of
 * F.resized_crop with bilinear interpolation.
 *
 * Resampling follows the PIL / torch `antialias=True` scheme: a triangle filter whose support widens
 * with the downscale factor, weights normalised over the taps inside the crop. When the output is at
 * least as large as the crop (always so for the audio view, which resizes a crop of the spectrogram back
 * to its full size, and for frames no larger than the output), this is exactly torch's
 * `interpolate(mode='bilinear', align_corners=False)` — including the clamp at the borders — so the
 * antialias flag of the official torchvision version does not matter there. When a large frame is
 * shrunk, it matches PIL's bilinear resize (what the official visual view uses) up to uint8 rounding.
 */
import type { Rng } from '../rng'

/** rows [top, top + height) × columns [left, left + width) of a [C, H, W] image */
export interface CropBox {
  top: number
  left: number
  height: number
  width: number
}

/** Where a crop sits in an augmentation parameter vector. */
export interface CropFields {
  cropOn: number
  cropTop: number
  cropLeft: number
  cropHeight: number
  cropWidth: number
}

/**
 * A crop's part of an augmentation vector: on, then top and height divided by `rowNorm`, left and width by
 * `colNorm`. The visual vector divides by the image's own height and width; the audio vector swaps them
 * (see encodeAudioCrop).
 */
export function encodeCrop(vector: Float32Array, at: CropFields, crop: CropBox, rowNorm: number, colNorm: number): void {
  vector[at.cropOn] = 1
  vector[at.cropTop] = crop.top / rowNorm
  vector[at.cropLeft] = crop.left / colNorm
  vector[at.cropHeight] = crop.height / rowNorm
  vector[at.cropWidth] = crop.width / colNorm
}

/** Python's round(): halves go to the even neighbour */
export function roundHalfEven(x: number): number {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * torchvision RandomResizedCrop.get_params on an image of `height` × `width`: area fraction ~ U(scale),
 * aspect (width / height) log-uniform in `ratio`, ten tries, then the central crop of the nearest
 * allowed aspect.
 */
export function randomResizedCropParams(
  rng: Rng,
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number]
): CropBox {
  const area = height * width
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])]
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1])
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]))
    const w = roundHalfEven(Math.sqrt(targetArea * aspect))
    const h = roundHalfEven(Math.sqrt(targetArea / aspect))
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.randint(0, height - h + 1), left: rng.randint(0, width - w + 1), height: h, width: w }
    }
  }
  const inRatio = width / height
  let w = width
  let h = height
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio))
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio))
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w }
}

interface Taps {
  /** first input index of each output's taps */
  first: Int32Array
  /** [outSize, maxTaps] normalised weights */
  weights: Float64Array
  maxTaps: number
}

/** 1-D triangle-filter taps mapping inSize → outSize samples (PIL precompute_coeffs, bilinear filter). */
function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize
  const filterScale = Math.max(scale, 1)
  const support = filterScale // the bilinear (triangle) filter has support 1 before scaling
  const maxTaps = Math.ceil(support) * 2 + 1
  const first = new Int32Array(outSize)
  const weights = new Float64Array(outSize * maxTaps)
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale
    const lo = Math.max(Math.trunc(center - support + 0.5), 0)
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize)
    let total = 0
    for (let x = lo; x < hi; x++) {
      const wgt = Math.max(0, 1 - Math.abs((x - center + 0.5) / filterScale))
      weights[o * maxTaps + x - lo] = wgt
      total += wgt
    }
    for (let k = 0; k < hi - lo; k++) weights[o * maxTaps + k] /= total
    first[o] = lo
  }
  return { first, weights, maxTaps }
}

/** Crop `box` out of a [C, H, W] image and resize it to [C, outH, outW] (separable: columns, then rows). */
export function resizedCrop(img: Float32Array, C: number, H: number, W: number, box: CropBox, outH: number, outW: number): Float32Array {
  if (box.top < 0 || box.left < 0 || box.top + box.height > H || box.left + box.width > W || box.height < 1 || box.width < 1) {
    throw new Error(`crop ${JSON.stringify(box)} does not fit a ${H}×${W} image`)
  }
  const tx = bilinearTaps(box.width, outW)
  const ty = bilinearTaps(box.height, outH)
  const rows = new Float64Array(box.height * outW) // [cropH, outW] for one channel
  const acc = new Float64Array(outW) // one output row
  const out = new Float32Array(C * outH * outW) // [C, outH, outW]
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < box.height; y++) {
      const src = c * H * W + (box.top + y) * W + box.left
      for (let o = 0; o < outW; o++) {
        let sum = 0
        const x0 = tx.first[o]
        for (let k = 0; k < tx.maxTaps; k++) {
          const wgt = tx.weights[o * tx.maxTaps + k]
          if (wgt !== 0) sum += wgt * img[src + x0 + k]
        }
        rows[y * outW + o] = sum
      }
    }
    for (let o = 0; o < outH; o++) {
      acc.fill(0)
      const y0 = ty.first[o]
      for (let k = 0; k < ty.maxTaps; k++) {
        const wgt = ty.weights[o * ty.maxTaps + k]
        if (wgt === 0) continue
        const src = (y0 + k) * outW
        for (let x = 0; x < outW; x++) acc[x] += wgt * rows[src + x]
      }
      out.set(acc, c * outH * outW + o * outW)
    }
  }
  return out
}
