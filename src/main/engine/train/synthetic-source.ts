import type { ModelConfig } from '../config'
import type { ClipSource } from './data-source'
import { syntheticClip } from './synthetic'

/** The generated task as a ClipSource (clips are cheap to regenerate, so nothing is cached). */
export function syntheticSource(clips: number, seed: number, model: ModelConfig): ClipSource {
  return {
    describe: `synthetic audio-visual task, ${clips} clips, seed ${seed}`,
    size: clips,
    clip: async (index) => syntheticClip(index, seed, model)
  }
}
