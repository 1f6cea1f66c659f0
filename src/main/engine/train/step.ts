/** One EquiAV optimisation step: forward, loss, gradients, clipping, AdamW. */
import * as tf from '@tensorflow/tfjs'
import type { EquiAVBatch } from '../batch'
import type { ModelConfig } from '../config'
import { forwardPretrain, type Params, type PretrainInputs } from '../model'
import { equiavLoss } from '../losses'
import { embeddingSpread } from './spread'
import { type AdamW, clipByGlobalNorm } from '../optim'
import type { LossWeights, Objective, PretrainOutputs } from '../types'

export interface StepSettings {
  objective: Objective
  lossWeights: LossWeights
  tau: number
  clipNorm: number
  lr: number
}

export interface StepResult {
  total: number
  inter: number
  intraA: number
  intraV: number
  /** global gradient norm before clipping */
  gradNorm: number
  /** mean cosine between different clips' inter-modal embeddings (1 = collapsed), audio and visual */
  spreadA: number
  spreadV: number
}

export function batchTensors(batch: EquiAVBatch, c: ModelConfig): PretrainInputs {
  const B = batch.batchSize
  const S = c.cenNum
  return {
    a: tf.tensor4d(batch.a, [B, 3, c.audioLength, c.numMelBins]),
    v: tf.tensor4d(batch.v, [B, 3, c.imgSize, c.imgSize]),
    aAug: tf.tensor4d(batch.aAug, [B, 3, c.audioLength, c.numMelBins]),
    vAug: tf.tensor4d(batch.vAug, [B, 3, c.imgSize, c.imgSize]),
    tA: tf.tensor2d(batch.tA, [B, c.augSizeA]),
    tV: tf.tensor2d(batch.tV, [B, c.augSizeV]),
    tAList: tf.tensor3d(batch.tAList, [B, S, c.augSizeA]),
    tVList: tf.tensor3d(batch.tVList, [B, S, c.augSizeV])
  }
}

export function trainableOf(params: Params): tf.Variable[] {
  return [...params.values()].filter((v) => v.trainable)
}

/** The loss terms and the collapse diagnostic of one batch, read while its loss is computed. */
export type LossReadings = Omit<StepResult, 'total' | 'gradNorm'>

/**
 * The total loss of a batch's pretraining outputs; `read` receives its terms and the spread of the
 * inter-modal embeddings. Used by the one-process step below and by an engine pool's coordinator
 * (parallel/pool.ts), which computes it on the embeddings gathered from its workers.
 */
export function pretrainLoss(out: PretrainOutputs, s: StepSettings, read: (r: LossReadings) => void): tf.Scalar {
  const spreadA = embeddingSpread(out.zAInv)
  const spreadV = embeddingSpread(out.zVInv)
  const loss = equiavLoss(out, s.lossWeights, s.tau)
  read({ inter: loss.inter.dataSync()[0], intraA: loss.intraA.dataSync()[0], intraV: loss.intraV.dataSync()[0], spreadA, spreadV })
  return loss.total
}

/**
 * Runs the step and returns the loss terms. When the loss is not finite no update is applied,
 * so the caller can stop with the parameters of the last good step.
 */
export function trainStep(params: Params, optimizer: AdamW, config: ModelConfig, inputs: PretrainInputs, s: StepSettings): StepResult {
  let readings: LossReadings = { inter: NaN, intraA: NaN, intraV: NaN, spreadA: NaN, spreadV: NaN }
  const { grads, value } = tf.variableGrads(
    () =>
      pretrainLoss(forwardPretrain(params, config, inputs, s.objective), s, (r) => {
        readings = r
      }),
    trainableOf(params)
  )
  const total = value.dataSync()[0]
  value.dispose()
  const gradMap = new Map(Object.entries(grads))
  if (!Number.isFinite(total)) {
    gradMap.forEach((g) => g.dispose())
    return { total, ...readings, gradNorm: NaN }
  }
  const clipped = clipByGlobalNorm(gradMap, s.clipNorm)
  optimizer.step(clipped.grads, s.lr)
  gradMap.forEach((g) => g.dispose())
  clipped.grads.forEach((g) => {
    if (!g.isDisposed) g.dispose()
  })
  return { total, ...readings, gradNorm: clipped.norm }
}
