/**
 * Separable Gaussian blur of [C, H, W] images. The kernel is torchvision's: taps at the integer offsets
 * −(k−1)/2 … (k−1)/2, exp(−x²/2σ²), normalised to sum 1; the same σ and size on both axes, so the
 * 2-D kernel is the outer product and two 1-D passes give torchvision's conv2d exactly.
 */
import type { Rng } from '../rng'

/** SimCLR / official blur range: σ ~ U(0.1, 2) */
export const BLUR_SIGMA_RANGE: readonly [number, number] = [0.1, 2]

/** 'reflect': torch pad mode (mirror without repeating the edge); 'edge': replicate the border (PIL) */
export type BlurPadding = 'reflect' | 'edge'

export function sampleBlurSigma(rng: Rng): number {
  return rng.uniform(...BLUR_SIGMA_RANGE)
}

export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  if (size < 1 || size % 2 === 0) throw new Error(`Gaussian kernel size must be odd and positive, got ${size}`)
  const half = (size - 1) / 2
  const kernel = new Float64Array(size)
  let total = 0
  for (let k = 0; k < size; k++) {
    const x = (k - half) / sigma
    kernel[k] = Math.exp(-0.5 * x * x)
    total += kernel[k]
  }
  for (let k = 0; k < size; k++) kernel[k] /= total
  return kernel
}

function padIndex(i: number, n: number, padding: BlurPadding): number {
  if (padding === 'edge' || n === 1) return Math.min(n - 1, Math.max(0, i))
  const period = 2 * (n - 1)
  const m = ((i % period) + period) % period
  return m < n ? m : period - m
}

/** source index for each of the n + 2·half padded positions */
function paddedIndices(n: number, half: number, padding: BlurPadding): Int32Array {
  const idx = new Int32Array(n + 2 * half)
  for (let i = 0; i < idx.length; i++) idx[i] = padIndex(i - half, n, padding)
  return idx
}

export function gaussianBlur(img: Float32Array, C: number, H: number, W: number, sigma: number, kernelSize: number, padding: BlurPadding): Float32Array {
  const kernel = gaussianKernel1d(kernelSize, sigma)
  const half = (kernelSize - 1) / 2
  const xs = paddedIndices(W, half, padding)
  const ys = paddedIndices(H, half, padding)
  const rows = new Float64Array(H * W) // one channel blurred along W
  const out = new Float32Array(C * H * W) // [C, H, W]
  for (let c = 0; c < C; c++) {
    const base = c * H * W
    for (let y = 0; y < H; y++) {
      const row = base + y * W
      for (let x = 0; x < W; x++) {
        let sum = 0
        for (let k = 0; k < kernelSize; k++) sum += kernel[k] * img[row + xs[x + k]]
        rows[y * W + x] = sum
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let sum = 0
        for (let k = 0; k < kernelSize; k++) sum += kernel[k] * rows[ys[y + k] * W + x]
        out[base + y * W + x] = sum
      }
    }
  }
  return out
}
