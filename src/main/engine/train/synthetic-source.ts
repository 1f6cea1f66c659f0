import type { ModelConfig } from '../config'
import type { ClipSource } from './data-source'
import { SYNTHETIC_CLASSES, syntheticClip } from './synthetic'

/** The generated task as a ClipSource (clips are cheap to regenerate, so nothing is cached). */
export function syntheticSource(clips: number, seed: number, model: ModelConfig): ClipSource {
  return {
    describe: `synthetic audio-visual task, ${clips} clips, seed ${seed}`,
    size: clips,
    clip: async (index) => syntheticClip(index, seed, model)
  }
}

/** Held-out clips of the generated task: the `count` clips after the first `trainClips` (same seed, so same classes). */
export function syntheticHeldOut(trainClips: number, count: number, seed: number, model: ModelConfig): ClipSource {
  return {
    describe: `synthetic audio-visual task, held-out clips ${trainClips}–${trainClips + count - 1}, seed ${seed}`,
    size: count,
    clip: async (index) => syntheticClip(trainClips + index, seed, model)
  }
}

export const SYNTHETIC_CLASS_NAMES: readonly string[] = Array.from({ length: SYNTHETIC_CLASSES }, (_, c) => `class-${c}`)
