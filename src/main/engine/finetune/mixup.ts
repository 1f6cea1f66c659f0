/**
 * Mixup as the official fine-tuning data (CAV-MAE's dataloader): with probability p a sample is blended
 * with a partner, λ ~ Beta(10, 10), input = λ·x + (1−λ)·x_partner for the fbank and the frame alike,
 * target = λ·y + (1−λ)·y_partner. The official partner is a random clip of the whole dataset; here it is
 * a random clip of the same batch (no extra reads; the batch is itself a random draw).
 */
import type { Rng } from '../rng'

export const MIXUP_ALPHA = 10

/** Gamma(shape, 1) by Marsaglia & Tsang (shape ≥ 1). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape >= 1)) throw new Error(`sampleGamma needs shape ≥ 1, got ${shape}`)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = rng.normal()
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = rng.uniform()
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a)
  return x / (x + sampleGamma(rng, b))
}

/** Per sample: the partner it is blended with and its own weight λ (partner = itself and λ = 1 when not mixed). */
export interface MixupPair {
  partner: number
  lambda: number
}

export function planMixup(rng: Rng, batchSize: number, probability: number, alpha = MIXUP_ALPHA): MixupPair[] {
  return Array.from({ length: batchSize }, (_, i) =>
    rng.uniform() < probability ? { partner: rng.randint(0, batchSize), lambda: sampleBeta(rng, alpha, alpha) } : { partner: i, lambda: 1 }
  )
}

/** rows of `rowLength` values: out_i = λ_i·x_i + (1−λ_i)·x_partner(i), from the unmixed rows (a new array). */
export function mixRows(x: Float32Array, rowLength: number, plan: readonly MixupPair[]): Float32Array {
  if (x.length !== plan.length * rowLength) throw new Error(`mixup: ${x.length} values are not ${plan.length} rows of ${rowLength}`)
  const out = new Float32Array(x.length)
  plan.forEach(({ partner, lambda }, i) => {
    const own = x.subarray(i * rowLength, (i + 1) * rowLength)
    const other = x.subarray(partner * rowLength, (partner + 1) * rowLength)
    for (let k = 0; k < rowLength; k++) out[i * rowLength + k] = lambda * own[k] + (1 - lambda) * other[k]
  })
  return out
}
