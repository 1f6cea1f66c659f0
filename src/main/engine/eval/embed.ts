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
import { evalFrame, evalWindow } from '../train/window'
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

/**
 * The evaluation views of clips, as the official test mode builds them: the fbank (its middle window of T
 * frames) without the time roll, tiled to 3 channels ([n, 3, T, F]), and the middle frame of that window
 * ImageNet-normalised ([n, 3, S, S]).
 */
export function evalViews(clips: RawClip[], c: ModelConfig): { a: Float32Array; v: Float32Array } {
  const aLen = 3 * c.audioLength * c.numMelBins
  const vLen = 3 * c.imgSize * c.imgSize
  const a = new Float32Array(clips.length * aLen)
  const v = new Float32Array(clips.length * vLen)
  clips.forEach((clip, i) => {
    const w = evalWindow(clip, c.audioLength, c.numMelBins)
    a.set(rollAndTile(w.fbank, c.audioLength, c.numMelBins, 0), i * aLen)
    v.set(normalizeFrame(evalFrame(clip, w), c.inputNorm.frame), i * vLen)
  })
  return { a, v }
}

/** One chunk of evaluation views to embed: `rows` clips, layouts as evalViews and sampleVirtualParams give them. */
export interface EmbedChunk {
  kind: EmbeddingKind
  rows: number
  a: Float32Array
  v: Float32Array
  tAList: Float32Array
  tVList: Float32Array
}

/** Un-normalised inter-modal embeddings of a chunk, [rows, interProjOutDim] each. */
export function embedRows(params: Params, c: ModelConfig, x: EmbedChunk): { za: Float32Array; zv: Float32Array } {
  const n = x.rows
  const S = c.cenNum
  return tf.tidy(() => {
    const at = tf.tensor4d(x.a, [n, 3, c.audioLength, c.numMelBins])
    const vt = tf.tensor4d(x.v, [n, 3, c.imgSize, c.imgSize])
    const f =
      x.kind === 'centroid'
        ? forwardFeat(params, c, at, vt, tf.tensor3d(x.tAList, [n, S, c.augSizeA]), tf.tensor3d(x.tVList, [n, S, c.augSizeV]))
        : forwardOriginal(params, c, at, vt)
    return { za: f.zA.dataSync() as Float32Array, zv: f.zV.dataSync() as Float32Array }
  })
}

/**
 * Embeds `count` clips in chunks of `batchSize`. `embedRows` computes a chunk elsewhere (an engine pool's
 * workers, parallel/pool.ts); the views and the S virtual vectors are drawn here, in clip order, either way.
 */
export async function embedClips(
  params: Params,
  c: ModelConfig,
  count: number,
  clipAt: (i: number) => Promise<RawClip>,
  o: {
    kind?: EmbeddingKind
    seed?: number
    batchSize?: number
    onProgress?: (done: number) => void
    embedRows?: (x: EmbedChunk) => Promise<{ za: Float32Array; zv: Float32Array }>
  } = {}
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
  const embed = o.embedRows ?? ((x: EmbedChunk) => Promise.resolve(embedRows(params, c, x)))
  // chunks are read and drawn in order, each while the one before it is embedded
  const prepare = async (start: number): Promise<EmbedChunk> => {
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
    return { kind, rows: n, a, v, tAList, tVList }
  }
  let next: Promise<EmbedChunk> | null = count > 0 ? prepare(0) : null
  try {
    for (let start = 0; start < count; start += B) {
      const chunk = await next!
      next = start + B < count ? prepare(start + B) : null
      const { za, zv } = await embed(chunk)
      audio.set(za, start * dim)
      visual.set(zv, start * dim)
      o.onProgress?.(start + chunk.rows)
    }
  } finally {
    await next?.catch(() => undefined) // a failed or cancelled run's read-ahead is not needed
  }
  return { ids, labels, dim, audio: l2NormalizeRows(audio, dim), visual: l2NormalizeRows(visual, dim) }
}
