/**
 * Retrieval embeddings as the official retrieval.py defines them: the inter-modal head applied to the
 * centroid of the predictor's outputs for S random augmentation vectors (drawn from a seeded generator,
 * so a seed reproduces them), from the un-augmented audio and the middle frame. 'original' is the
 * ablation without the predictor: the inter head on mean-pooled tokens.
 */
import * as tf from '@tensorflow/tfjs'
import { augOptionsFromConfig, normalizeFrame, sampleVirtualParams } from '../augment'
import type { ModelConfig } from '../config'
import { forwardFeat, forwardOriginal, type Params } from '../model'
import { Rng } from '../rng'
import type { RawClip } from '../train/synthetic'
import { rollAndTile } from '../train/views'
import { l2NormalizeRows } from './retrieval'

export type EmbeddingKind = 'centroid' | 'original'

export interface Embeddings {
  ids: string[]
  labels: number[]
  dim: number
  /** [n, dim] L2-normalised */
  audio: Float32Array
  visual: Float32Array
}

/** The frame the official code evaluates on: frame_5 of 10 (the middle one). */
export function middleFrame(clip: RawClip): Float32Array {
  return clip.frames[Math.floor(clip.frames.length / 2)]
}

/**
 * The evaluation views of clips, as the official test mode builds them: the fbank without the time roll,
 * tiled to 3 channels ([n, 3, T, F]), and the middle frame ImageNet-normalised ([n, 3, S, S]).
 */
export function evalViews(clips: RawClip[], c: ModelConfig): { a: Float32Array; v: Float32Array } {
  const aLen = 3 * c.audioLength * c.numMelBins
  const vLen = 3 * c.imgSize * c.imgSize
  const a = new Float32Array(clips.length * aLen)
  const v = new Float32Array(clips.length * vLen)
  clips.forEach((clip, i) => {
    a.set(rollAndTile(clip.fbank, c.audioLength, c.numMelBins, 0), i * aLen)
    v.set(normalizeFrame(middleFrame(clip), c.inputNorm.frame), i * vLen)
  })
  return { a, v }
}

export async function embedClips(
  params: Params,
  c: ModelConfig,
  count: number,
  clipAt: (i: number) => Promise<RawClip>,
  o: { kind?: EmbeddingKind; seed?: number; batchSize?: number; onProgress?: (done: number) => void } = {}
): Promise<Embeddings> {
  const kind = o.kind ?? 'centroid'
  const B = o.batchSize ?? 16
  const S = c.cenNum
  const rng = new Rng(o.seed ?? 0)
  const aug = augOptionsFromConfig(c)
  const dim = c.interProjOutDim
  const audio = new Float32Array(count * dim)
  const visual = new Float32Array(count * dim)
  const ids: string[] = []
  const labels: number[] = []
  for (let start = 0; start < count; start += B) {
    const n = Math.min(B, count - start)
    const clips = await Promise.all(Array.from({ length: n }, (_, i) => clipAt(start + i)))
    const { a, v } = evalViews(clips, c)
    const tAList = new Float32Array(n * S * c.augSizeA)
    const tVList = new Float32Array(n * S * c.augSizeV)
    clips.forEach((clip, i) => {
      const t = sampleVirtualParams(rng, S, aug)
      tAList.set(t.tAList, i * S * c.augSizeA)
      tVList.set(t.tVList, i * S * c.augSizeV)
      ids.push(clip.id)
      labels.push(clip.label)
    })
    const [za, zv] = tf.tidy(() => {
      const at = tf.tensor4d(a, [n, 3, c.audioLength, c.numMelBins])
      const vt = tf.tensor4d(v, [n, 3, c.imgSize, c.imgSize])
      const f =
        kind === 'centroid'
          ? forwardFeat(params, c, at, vt, tf.tensor3d(tAList, [n, S, c.augSizeA]), tf.tensor3d(tVList, [n, S, c.augSizeV]))
          : forwardOriginal(params, c, at, vt)
      return [f.zA.dataSync() as Float32Array, f.zV.dataSync() as Float32Array]
    })
    audio.set(za, start * dim)
    visual.set(zv, start * dim)
    o.onProgress?.(start + n)
  }
  return { ids, labels, dim, audio: l2NormalizeRows(audio, dim), visual: l2NormalizeRows(visual, dim) }
}
