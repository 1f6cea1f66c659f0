/**
 * Classifier evaluation as the paper reports it: mAP over classes (AudioSet style, with BCE) or top-1 /
 * top-5 accuracy on the first label (VGGSound style, with CE), overall and per class; middle frame only.
 */
import * as tf from '@tensorflow/tfjs'
import { averagePrecision, meanAveragePrecision, topKAccuracy } from '../eval/metrics'
import type { Params } from '../model'
import type { RawClip } from '../train/synthetic'
import { classifierBatch, classifierTensors, clipTargets } from './batch'
import { type ClassifierSpec, classifierLogits } from './model'
import type { FinetuneLoss } from './objective'

export interface ClassifierScores {
  ids: string[]
  /** [n, C] logits */
  scores: Float32Array
  /** [n, C] targets (multi-hot for BCE, one-hot of the first label for CE) */
  targets: Float32Array
  /** first label of each clip */
  labels: number[]
}

export async function classifierScores(
  params: Params,
  spec: ClassifierSpec,
  loss: FinetuneLoss,
  count: number,
  clipAt: (i: number) => Promise<RawClip>,
  o: { batchSize?: number; onProgress?: (done: number) => void } = {}
): Promise<ClassifierScores> {
  const B = o.batchSize ?? 16
  const C = spec.classes
  const out: ClassifierScores = { ids: [], scores: new Float32Array(count * C), targets: new Float32Array(count * C), labels: [] }
  for (let start = 0; start < count; start += B) {
    const clips: RawClip[] = await Promise.all(Array.from({ length: Math.min(B, count - start) }, (_, i) => clipAt(start + i)))
    const batch = classifierBatch(clips, spec, loss, { train: false })
    const inputs = classifierTensors(batch, spec.model)
    const logits = tf.tidy(() => classifierLogits(params, spec, inputs).dataSync() as Float32Array)
    tf.dispose([inputs.a, inputs.v, inputs.targets])
    out.scores.set(logits, start * C)
    clips.forEach((clip, i) => {
      out.targets.set(clipTargets(clip, C, loss), (start + i) * C)
      out.ids.push(clip.id)
      out.labels.push(clip.label)
    })
    o.onProgress?.(start + clips.length)
  }
  return out
}

export type ClassPerformance = { n: number; AP: number | null } | { n: number; top1: number }

export interface ClassificationResult {
  n: number
  /** BCE runs: mean over the classes that have a positive */
  mAP?: number
  /** CE runs, in percent */
  top1?: number
  top5?: number
  /** by class name: AP (null without positives) or top-1 of the clips whose first label it is */
  per_class: Record<string, ClassPerformance>
}

export function classificationMetrics(s: ClassifierScores, classNames: readonly string[], loss: FinetuneLoss): ClassificationResult {
  const C = classNames.length
  const n = s.ids.length
  const per_class: Record<string, ClassPerformance> = {}
  if (loss === 'bce') {
    classNames.forEach((name, c) => {
      const scores = Array.from({ length: n }, (_, i) => s.scores[i * C + c])
      const positives = Array.from({ length: n }, (_, i) => s.targets[i * C + c] > 0.5)
      const ap = averagePrecision(scores, positives)
      per_class[name] = { n: positives.filter(Boolean).length, AP: Number.isNaN(ap) ? null : ap }
    })
    return { n, mAP: meanAveragePrecision(s.scores, s.targets, C), per_class }
  }
  classNames.forEach((name, c) => {
    const rows = s.labels.flatMap((l, i) => (l === c ? [i] : []))
    if (rows.length === 0) return
    const scores = new Float32Array(rows.length * C)
    rows.forEach((r, k) => scores.set(s.scores.subarray(r * C, (r + 1) * C), k * C))
    per_class[name] = { n: rows.length, top1: topKAccuracy(scores, rows.map(() => c), C, 1) }
  })
  return { n, top1: topKAccuracy(s.scores, s.labels, C, 1), top5: topKAccuracy(s.scores, s.labels, C, Math.min(5, C)), per_class }
}
