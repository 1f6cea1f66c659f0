/**
 * Linear probe: frozen encoders, mean-pooled final-normed tokens as features (the representation the
 * fine-tuning heads read, EQUIAV.md §5), a softmax classifier trained on them with AdamW. Features are
 * standardised with the training split's statistics. Accuracy is top-1 on the held-out split.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { encodeAudio, encodeVisual, type Params } from '../model'
import { AdamW } from '../optim'
import type { RawClip } from '../train/synthetic'
import { evalViews } from './embed'
import { topKAccuracy } from './metrics'

export type ProbeModality = 'audio' | 'visual' | 'audio-visual'

/** [n, D] (or [n, 2D] for audio-visual) mean-pooled encoder features of clips, in batches. */
export async function encoderFeatures(params: Params, c: ModelConfig, clips: RawClip[], modality: ProbeModality, batchSize = 16): Promise<Float32Array> {
  const width = modality === 'audio-visual' ? 2 * c.embedDim : c.embedDim
  const out = new Float32Array(clips.length * width)
  for (let s = 0; s < clips.length; s += batchSize) {
    const batch = clips.slice(s, s + batchSize)
    const n = batch.length
    const views = evalViews(batch, c)
    const feats = tf.tidy(() => {
      const parts: tf.Tensor2D[] = []
      if (modality !== 'visual') {
        const a = tf.tensor4d(views.a, [n, 3, c.audioLength, c.numMelBins])
        parts.push(tf.mean(encodeAudio(params, c, a), 1) as tf.Tensor2D)
      }
      if (modality !== 'audio') {
        const v = tf.tensor4d(views.v, [n, 3, c.imgSize, c.imgSize])
        parts.push(tf.mean(encodeVisual(params, c, v), 1) as tf.Tensor2D)
      }
      return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)).dataSync() as Float32Array
    })
    out.set(feats, s * width)
  }
  return out
}

/** Trains softmax regression on train features and returns top-1 accuracy (%) on test features. */
export function linearProbe(
  train: { x: Float32Array; y: number[] },
  test: { x: Float32Array; y: number[] },
  dim: number,
  classes: number,
  o: { epochs?: number; lr?: number; seed?: number } = {}
): number {
  const n = train.y.length
  const mean = new Float32Array(dim)
  const std = new Float32Array(dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += train.x[i * dim + j] / n
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) std[j] += (train.x[i * dim + j] - mean[j]) ** 2 / n
  const scale = std.map((v) => 1 / Math.sqrt(v + 1e-6))
  const standardise = (x: Float32Array): Float32Array => x.map((v, k) => (v - mean[k % dim]) * scale[k % dim])
  const W = tf.variable(tf.randomNormal([dim, classes], 0, 0.01, 'float32', o.seed ?? 0))
  const b = tf.variable(tf.zeros([classes]))
  const opt = new AdamW(new Map([['W', W], ['b', b]]), { weightDecay: 1e-4 })
  const xs = tf.tensor2d(standardise(train.x), [n, dim])
  const ys = tf.oneHot(tf.tensor1d(train.y, 'int32'), classes)
  for (let e = 0; e < (o.epochs ?? 300); e++) {
    const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, tf.add(tf.matMul(xs, W), b)) as tf.Scalar, [W, b])
    opt.step(new Map([['W', grads[W.name]], ['b', grads[b.name]]]), o.lr ?? 1e-2)
    tf.dispose([value, ...Object.values(grads)])
  }
  const scores = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(standardise(test.x), [test.y.length, dim]), W), b).dataSync() as Float32Array)
  tf.dispose([W, b, xs, ys])
  opt.dispose()
  return topKAccuracy(scores, test.y, classes, 1)
}
