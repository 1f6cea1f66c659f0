/**
 * Clips → one classifier batch, as the official fine-tuning dataset builds it: in training the fbank is
 * circularly rolled by randint(−T, T) and a random frame is taken (then optional mixup); at evaluation
 * the fbank is left as it is and the middle frame is used. Targets: every label of the clip (multi-hot)
 * for BCE, the first label (one-hot) for CE.
 */
import * as tf from '@tensorflow/tfjs'
import { normalizeFrame } from '../augment'
import type { ModelConfig } from '../config'
import type { Rng } from '../rng'
import type { RawClip } from '../train/synthetic'
import { rollAndTile } from '../train/views'
import { evalFrame, evalWindow, trainWindow } from '../train/window'
import { mixRows, planMixup } from './mixup'
import { type ClassifierInputs, type ClassifierSpec, encoderModalities } from './model'
import type { FinetuneLoss } from './objective'

export interface ClassifierBatch {
  batchSize: number
  /** [B, 3, T, F] when the classifier hears audio */
  a?: Float32Array
  /** [B, 3, S, S] ImageNet-normalised, when it sees frames */
  v?: Float32Array
  /** [B, C] */
  targets: Float32Array
}

/** [C] target row of a clip; a clip without a usable label is an error naming it. */
export function clipTargets(clip: RawClip, classes: number, loss: FinetuneLoss): Float32Array {
  const labels = loss === 'ce' ? [clip.label] : (clip.labels ?? [clip.label])
  const out = new Float32Array(classes)
  if (labels.length === 0) throw new Error(`clip ${clip.id} has no label to train or evaluate a classifier on`)
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new Error(`clip ${clip.id} has label ${l}, outside the ${classes} classes`)
    out[l] = 1
  }
  return out
}

/** In training, `timeRoll: false` leaves the fbank in place (default: rolled, as the official fine-tuning). */
export type BatchMode = { train: false } | { train: true; rng: Rng; mixup: number; timeRoll?: boolean }

export function classifierBatch(clips: RawClip[], spec: ClassifierSpec, loss: FinetuneLoss, mode: BatchMode): ClassifierBatch {
  const c: ModelConfig = spec.model
  const B = clips.length
  const mods = encoderModalities(spec.modality)
  const aLen = 3 * c.audioLength * c.numMelBins
  const vLen = 3 * c.imgSize * c.imgSize
  let a: Float32Array | undefined = mods.includes('a') ? new Float32Array(B * aLen) : undefined
  let v: Float32Array | undefined = mods.includes('v') ? new Float32Array(B * vLen) : undefined
  let targets: Float32Array = new Float32Array(B * spec.classes)
  clips.forEach((clip, i) => {
    // the draws happen whatever the modality, so a batch's randomness does not depend on it
    // the audio window and a frame inside it (train/window.ts): drawn in training, the middle ones in evaluation
    const w = mode.train ? trainWindow(clip, c.audioLength, c.numMelBins, mode.rng) : evalWindow(clip, c.audioLength, c.numMelBins)
    const drawn = mode.train ? mode.rng.randint(-c.audioLength, c.audioLength) : 0
    const shift = mode.train && mode.timeRoll !== false ? drawn : 0
    const frame = mode.train ? clip.frames[w.frames[mode.rng.randint(0, w.frames.length)]] : evalFrame(clip, w)
    a?.set(rollAndTile(w.fbank, c.audioLength, c.numMelBins, shift), i * aLen)
    v?.set(normalizeFrame(frame, c.inputNorm.frame), i * vLen)
    targets.set(clipTargets(clip, spec.classes, loss), i * spec.classes)
  })
  if (mode.train && mode.mixup > 0) {
    const plan = planMixup(mode.rng, B, mode.mixup)
    a = a && mixRows(a, aLen, plan)
    v = v && mixRows(v, vLen, plan)
    targets = mixRows(targets, spec.classes, plan)
  }
  return { batchSize: B, a, v, targets }
}

export function classifierTensors(batch: ClassifierBatch, c: ModelConfig): ClassifierInputs & { targets: tf.Tensor2D } {
  const B = batch.batchSize
  return {
    a: batch.a && tf.tensor4d(batch.a, [B, 3, c.audioLength, c.numMelBins]),
    v: batch.v && tf.tensor4d(batch.v, [B, 3, c.imgSize, c.imgSize]),
    targets: tf.tensor2d(batch.targets, [B, batch.targets.length / B])
  }
}
