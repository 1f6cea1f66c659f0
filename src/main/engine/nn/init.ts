/** Parameter initialisers of the official `MainModel.initialize_weights`, drawn from our seeded RNG. */
import type { Rng } from '../rng'

/** Xavier/Glorot uniform: U(−b, b) with b = √(6 / (fanIn + fanOut)). */
export function xavierUniform(rng: Rng, fanIn: number, fanOut: number, count: number): Float32Array {
  const bound = Math.sqrt(6 / (fanIn + fanOut))
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = (2 * rng.uniform() - 1) * bound
  return out
}

/** N(0, std²); the official modality vectors use std 0.02. */
export function normalInit(rng: Rng, std: number, count: number): Float32Array {
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std
  return out
}
