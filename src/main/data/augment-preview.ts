/**
 * What one audio and one visual augmentation do to a clip: sampled by the engine's own samplers from a
 * seed, applied to the clip's model inputs, and returned with the official parameter vectors t_a / t_v,
 * each entry named after its field.
 */
import { AUDIO_AUG_INDEX, VISUAL_AUG_INDEX, applyAudioAug, applyVisualAug, sampleAudioAugParams, sampleVisualAugParams } from '../engine/augment'
import { Rng } from '../engine/rng'
import type { ClipFeatures } from './clip-features'
import { framePng, spectrogramPng, valueRange } from './images'

/** Names of a vector's entries from a field → position table; a field spanning several entries gets [i]. */
export function vectorNames(index: Record<string, number>, size: number): string[] {
  const fields = Object.entries(index).sort((a, b) => a[1] - b[1])
  return Array.from({ length: size }, (_, i) => {
    const at = fields.filter(([, p]) => p <= i).pop()
    if (!at) return `t[${i}]`
    const next = fields.find(([, p]) => p > at[1])
    const span = (next ? next[1] : size) - at[1]
    return span > 1 ? `${at[0]}[${i - at[1]}]` : at[0]
  })
}

const dataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`

export interface AugmentPreview {
  seed: number
  frame: number
  original: { spectrogram: string; frame: string }
  audio: { names: string[]; vector: number[]; image: string }
  visual: { names: string[]; vector: number[]; image: string }
}

export function augmentPreview(f: ClipFeatures, seed: number): AugmentPreview {
  const { targetLength: T, numMelBins: F, frameSize: S } = f.settings
  const rng = new Rng(seed)
  // the audio view is the fbank tiled to [3, T, F], as the loader feeds it
  const tiled = new Float32Array(3 * T * F)
  for (let c = 0; c < 3; c++) tiled.set(f.fbank, c * T * F)
  const a = sampleAudioAugParams(rng, { T, F, augSize: 24 })
  const aAug = applyAudioAug(a.spec, tiled, T, F).subarray(0, T * F) // [T, F], channel 0
  const k = f.evalFrame // the frame evaluation pairs with this window
  const v = sampleVisualAugParams(rng, { H: S, W: S, augSize: 18 })
  const vAug = applyVisualAug(v.spec, f.frames[k], S, S, S) // [3, S, S], before ImageNet normalisation
  const range = valueRange(f.fbank)
  return {
    seed,
    frame: k,
    original: { spectrogram: dataUrl(spectrogramPng(f.fbank, T, F, range)), frame: dataUrl(framePng(f.frames[k], S, S)) },
    audio: { names: vectorNames(AUDIO_AUG_INDEX, a.vector.length), vector: [...a.vector], image: dataUrl(spectrogramPng(aAug, T, F, range)) },
    visual: { names: vectorNames(VISUAL_AUG_INDEX, v.vector.length), vector: [...v.vector], image: dataUrl(framePng(vAug, S, S)) }
  }
}
