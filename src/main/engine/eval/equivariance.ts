/**
 * The equivariance probe (the paper's "similarity" column): for one augmentation type and strength at a
 * time, how close the predicted augmented embedding ẑ = g_intra(u(h, t)) comes to the actual one
 * z′ = g_intra(mean_n h′) (h′: the augmented view through norm_m_aug), as a mean cosine similarity, next to
 * the invariant baseline cos(g_intra(mean_n h), z′), which ignores t. Evaluation views: the un-rolled fbank
 * and the middle frame; augmentation draws (positions, jitter signs) come from a seeded generator.
 */
import * as tf from '@tensorflow/tfjs'
import { applyAudioAug, applyVisualAug, normalizeFrame } from '../augment'
import {
  AUDIO_STRENGTHS,
  type AudioAugKind,
  singleAudioAug,
  singleVisualAug,
  VISUAL_STRENGTHS,
  type VisualAugKind
} from '../augment/single'
import type { ModelConfig } from '../config'
import { encodeViews } from '../model/encoder'
import { equivariantHead, projectionHead } from '../model/heads'
import type { Modality, Params } from '../model/params'
import { augmentationPredictor } from '../model/predictor'
import { Rng } from '../rng'
import type { RawClip } from '../train/synthetic'
import { rollAndTile } from '../train/views'
import { evalFrame, evalWindow } from '../train/window'

export interface EquivarianceCase {
  modality: Modality
  augmentation: AudioAugKind | VisualAugKind
  strength: number
}

export interface EquivarianceRow extends EquivarianceCase {
  n: number
  /** mean cos(ẑ, z′) */
  predicted: number
  /** mean cos(g_intra(mean h), z′) */
  invariant: number
}

/** smallest official vector length that holds each part (shorter variants lack it) */
const AUDIO_MIN_SIZE: Record<AudioAugKind, number> = { specaug: 7, rrc: 12, 'colour-jitter': 21, blur: 23, hflip: 24 }
const VISUAL_MIN_SIZE: Record<VisualAugKind, number> = { rrc: 16, 'colour-jitter': 16, blur: 16, hflip: 18, grayscale: 18 }

export function equivarianceCases(c: ModelConfig): EquivarianceCase[] {
  const audio = (Object.keys(AUDIO_STRENGTHS) as AudioAugKind[])
    .filter((k) => c.augSizeA >= AUDIO_MIN_SIZE[k])
    .flatMap((k) => AUDIO_STRENGTHS[k].map((strength) => ({ modality: 'a' as const, augmentation: k, strength })))
  const visual = (Object.keys(VISUAL_STRENGTHS) as VisualAugKind[])
    .filter((k) => c.augSizeV >= VISUAL_MIN_SIZE[k])
    .flatMap((k) => VISUAL_STRENGTHS[k].map((strength) => ({ modality: 'v' as const, augmentation: k, strength })))
  return [...audio, ...visual]
}

/** Row-wise cosine similarity of two [B, D] tensors. */
function rowCosine(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.div(tf.sum(tf.mul(x, y), 1), tf.maximum(tf.mul(tf.norm(x, 'euclidean', 1), tf.norm(y, 'euclidean', 1)), 1e-12)) as tf.Tensor1D
}

/**
 * Per-sample cosines for original views x, augmented views xAug and their parameter vectors t [B, P]:
 * predicted = cos(g_intra(u(h, t)), z′), invariant = cos(g_intra(mean h), z′).
 */
export function equivarianceCosines(params: Params, c: ModelConfig, m: Modality, x: tf.Tensor4D, xAug: tf.Tensor4D, t: tf.Tensor2D): { predicted: Float32Array; invariant: Float32Array } {
  return tf.tidy(() => {
    const { h, hAug } = encodeViews(params, c, m, x, xAug)
    const head = equivariantHead(m)
    const predicted = tf.squeeze(augmentationPredictor(params, c, m, h, tf.expandDims(t, 1) as tf.Tensor3D), [1]) as tf.Tensor2D // [B, D]
    const zHat = projectionHead(params, c, head, predicted)
    const zAug = projectionHead(params, c, head, tf.mean(hAug as tf.Tensor3D, 1) as tf.Tensor2D)
    const zInv = projectionHead(params, c, head, tf.mean(h, 1) as tf.Tensor2D)
    return { predicted: rowCosine(zHat, zAug).dataSync() as Float32Array, invariant: rowCosine(zInv, zAug).dataSync() as Float32Array }
  })
}

/** Original view, augmented view and t of one clip for one case. */
function caseViews(clip: RawClip, k: EquivarianceCase, c: ModelConfig, rng: Rng): { x: Float32Array; xAug: Float32Array; t: Float32Array } {
  const w = evalWindow(clip, c.audioLength, c.numMelBins)
  if (k.modality === 'a') {
    const x = rollAndTile(w.fbank, c.audioLength, c.numMelBins, 0)
    const aug = singleAudioAug(k.augmentation as AudioAugKind, k.strength, rng, { T: c.audioLength, F: c.numMelBins, augSize: c.augSizeA })
    return { x, xAug: applyAudioAug(aug.spec, x, c.audioLength, c.numMelBins), t: aug.vector }
  }
  const raw = evalFrame(clip, w)
  const side = Math.round(Math.sqrt(raw.length / 3))
  const aug = singleVisualAug(k.augmentation as VisualAugKind, k.strength, rng, { H: side, W: side, augSize: c.augSizeV })
  return { x: normalizeFrame(raw, c.inputNorm.frame), xAug: normalizeFrame(applyVisualAug(aug.spec, raw, side, side, c.imgSize), c.inputNorm.frame), t: aug.vector }
}

export async function equivarianceProbe(
  params: Params,
  c: ModelConfig,
  count: number,
  clipAt: (i: number) => Promise<RawClip>,
  o: { seed?: number; batchSize?: number; cases?: EquivarianceCase[]; onProgress?: (done: number, total: number) => void } = {}
): Promise<EquivarianceRow[]> {
  const cases = o.cases ?? equivarianceCases(c)
  const B = o.batchSize ?? 16
  const sums = cases.map(() => ({ predicted: 0, invariant: 0 }))
  for (let start = 0; start < count; start += B) {
    const clips = await Promise.all(Array.from({ length: Math.min(B, count - start) }, (_, i) => clipAt(start + i)))
    cases.forEach((k, ci) => {
      const rng = new Rng((o.seed ?? 0) * 7919 + ci * 104729 + start) // the same draws whatever else is probed
      const views = clips.map((clip) => caseViews(clip, k, c, rng))
      const shape: [number, number, number, number] = k.modality === 'a' ? [clips.length, 3, c.audioLength, c.numMelBins] : [clips.length, 3, c.imgSize, c.imgSize]
      const stack = (part: 'x' | 'xAug' | 't'): Float32Array => {
        const out = new Float32Array(views.length * views[0][part].length)
        views.forEach((v, i) => out.set(v[part], i * v[part].length))
        return out
      }
      const x = tf.tensor4d(stack('x'), shape)
      const xAug = tf.tensor4d(stack('xAug'), shape)
      const t = tf.tensor2d(stack('t'), [clips.length, views[0].t.length])
      const cos = equivarianceCosines(params, c, k.modality, x, xAug, t)
      tf.dispose([x, xAug, t])
      cos.predicted.forEach((v) => (sums[ci].predicted += v))
      cos.invariant.forEach((v) => (sums[ci].invariant += v))
    })
    o.onProgress?.(start + clips.length, count)
  }
  return cases.map((k, ci) => ({ ...k, n: count, predicted: sums[ci].predicted / count, invariant: sums[ci].invariant / count }))
}

export function equivarianceMarkdown(rows: readonly EquivarianceRow[]): string {
  const lines = [
    '| modality | augmentation | strength | predicted cos(ẑ, z′) | invariant cos(g(h̄), z′) | clips |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.modality === 'a' ? 'audio' : 'visual'} | ${r.augmentation} | ${r.strength} | ${r.predicted.toFixed(4)} | ${r.invariant.toFixed(4)} | ${r.n} |`)
  ]
  return lines.join('\n') + '\n'
}
