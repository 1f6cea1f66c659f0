/**
 * Where pretraining clips come from, and which clips form the batch at a given step.
 * Batch composition is a pure function of (seed, step): the epoch's permutation is drawn from
 * Rng(seed, epoch) and the augmentations of step s from Rng(seed, s). A resumed run therefore sees
 * exactly the batches the uninterrupted run would have seen, with no generator state to carry.
 */
import { Rng } from '../rng'
import type { RawClip } from './synthetic'

export interface ClipSource {
  /** human-readable origin, stored in config.json */
  describe: string
  size: number
  clip(index: number): Promise<RawClip>
}

export function stepsPerEpoch(size: number, batchSize: number): number {
  return Math.max(1, Math.floor(size / batchSize)) // drop_last, as the official DataLoader
}

/** Independent generator for (seed, purpose, k), e.g. ('epoch', 3) or ('step', 120). */
export function derivedRng(seed: number, purpose: 'epoch' | 'step', k: number): Rng {
  return new Rng(((seed * 2654435761) ^ (purpose === 'epoch' ? 0x5bd1e995 : 0x27d4eb2f) ^ (k * 374761393)) >>> 0)
}

export function batchIndices(step: number, size: number, batchSize: number, seed: number): { epoch: number; indices: number[] } {
  const spe = stepsPerEpoch(size, batchSize)
  const epoch = Math.floor(step / spe)
  const perm = derivedRng(seed, 'epoch', epoch).permutation(size)
  const start = (step % spe) * batchSize
  const indices: number[] = []
  for (let i = 0; i < batchSize; i++) indices.push(perm[(start + i) % size])
  return { epoch, indices }
}

export interface FetchedClips {
  epoch: number
  clips: RawClip[]
}

/** The clips of a step; callers start it one step ahead so the reads overlap the previous step's compute. */
export async function fetchClips(source: ClipSource, step: number, batchSize: number, seed: number): Promise<FetchedClips> {
  const { epoch, indices } = batchIndices(step, source.size, batchSize, seed)
  return { epoch, clips: await Promise.all(indices.map((i) => source.clip(i))) }
}
