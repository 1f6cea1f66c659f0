/**
 * One path from a clip to its training views, shared by the data loader and the synthetic task:
 * the augmented audio and visual views, the parameter vectors of what was applied (t_a, t_v), and S
 * virtual vectors per modality for the centroid, drawn by the very same samplers and never applied.
 */
import type { EquiAVBatch } from '../batch'
import type { ModelConfig } from '../config'
import { type AudioAugOptions, applyAudioAug, audioAugSize, sampleAudioAugParams } from './audio'
import type { Rng } from '../rng'
import { applyVisualAug, normalizeFrame, sampleVisualAugParams, type VisualAugOptions, visualAugSize } from './visual'

export * from './audio'
export * from './visual'


export interface AugOptions {
  audio: AudioAugOptions
  /** frame size the virtual visual vectors are drawn for (imgSize, as the official dummy 224 × 224) */
  visual: VisualAugOptions
}

export function augOptionsFromConfig(cfg: ModelConfig): AugOptions {
  return {
    audio: { T: cfg.audioLength, F: cfg.numMelBins, augSize: audioAugSize(cfg.augSizeA) },
    visual: { H: cfg.imgSize, W: cfg.imgSize, augSize: visualAugSize(cfg.augSizeV) }
  }
}

/** S virtual parameter vectors per modality for the centroid */
export function sampleVirtualParams(rng: Rng, S: number, opts: AugOptions): { tAList: Float32Array; tVList: Float32Array } {
  const a = Array.from({ length: S }, () => sampleAudioAugParams(rng, opts.audio).vector)
  const v = Array.from({ length: S }, () => sampleVisualAugParams(rng, opts.visual).vector)
  return { tAList: stack(a), tVList: stack(v) }
}

function stack(rows: Float32Array[]): Float32Array {
  const width = rows.length > 0 ? rows[0].length : 0
  const out = new Float32Array(rows.length * width) // [S, P]
  rows.forEach((r, s) => out.set(r, s * width))
  return out
}

/** One clip's augmented views and parameter vectors: EquiAVBatch's fields for a batch of one. */
export type ClipViews = Pick<EquiAVBatch, 'aAug' | 'vAug' | 'tA' | 'tV' | 'tAList' | 'tVList'>

/**
 * Views of one clip. `audio` is the original audio view [3, T, F] (normalised, rolled, tiled);
 * `frame` a raw RGB frame [3, H, W] in [0, 1] — square with side √(length/3) unless frameDims says.
 */
export function makeViews(rng: Rng, audio: Float32Array, frame: Float32Array, cfg: ModelConfig, frameDims?: { H: number; W: number }): ClipViews {
  const opts = augOptionsFromConfig(cfg)
  const { T, F } = opts.audio
  const { H, W } = frameDims ?? squareFrame(frame)
  const a = sampleAudioAugParams(rng, opts.audio)
  const v = sampleVisualAugParams(rng, { ...opts.visual, H, W })
  const { tAList, tVList } = sampleVirtualParams(rng, cfg.cenNum, opts)
  return {
    aAug: applyAudioAug(a.spec, audio, T, F),
    vAug: normalizeFrame(applyVisualAug(v.spec, frame, H, W, cfg.imgSize), cfg.inputNorm.frame),
    tA: a.vector,
    tV: v.vector,
    tAList,
    tVList
  }
}

function squareFrame(frame: Float32Array): { H: number; W: number } {
  const side = Math.round(Math.sqrt(frame.length / 3))
  if (3 * side * side !== frame.length) throw new Error(`frame of ${frame.length} values is not [3, S, S]; pass frameDims`)
  return { H: side, W: side }
}
