/**
 * The official pretraining forward (`MainModel.forward` / `project_embedding`) and its ablations,
 * plus `forward_feat` (retrieval embeddings).
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import type { Objective, PretrainOutputs } from '../types'
import { encodeViews } from './encoder'
import { equivariantHead, invariantHead, projectionHead } from './heads'
import type { Modality, Params } from './params'
import { augmentationPredictor } from './predictor'

/** One batch as tensors, with the layouts of `EquiAVBatch` (src/main/engine/batch.ts). */
export interface PretrainInputs {
  /** [B, 3, audioLength, numMelBins] */
  a: tf.Tensor4D
  /** [B, 3, imgSize, imgSize] */
  v: tf.Tensor4D
  /** augmented views, same layouts (unused by 'inter-only') */
  aAug: tf.Tensor4D
  vAug: tf.Tensor4D
  /** [B, augSizeA] / [B, augSizeV]: parameters of the applied augmentations */
  tA: tf.Tensor2D
  tV: tf.Tensor2D
  /** [B, S, augSizeA] / [B, S, augSizeV]: virtual parameter vectors for the centroid */
  tAList: tf.Tensor3D
  tVList: tf.Tensor3D
}

type ModalityOutputs = { inv: tf.Tensor2D; equiT?: tf.Tensor2D; aug?: tf.Tensor2D }

/** rows [start, start+count) of axis 1 of [B, S, D], averaged → [B, D] */
function meanOfRows(x: tf.Tensor3D, start: number, count: number): tf.Tensor2D {
  return tf.mean(tf.slice(x, [0, start, 0], [-1, count, -1]), 1)
}

/** Apply the intra head to two [B, D] inputs in one [2B, D] pass. */
function intraPair(params: Params, config: ModelConfig, m: Modality, first: tf.Tensor2D, second: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const z = projectionHead(params, config, equivariantHead(m), tf.concat([first, second], 0))
  return tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D]
}

function modalityForward(
  params: Params,
  config: ModelConfig,
  objective: Objective,
  m: Modality,
  x: tf.Tensor4D,
  xAug: tf.Tensor4D,
  t: tf.Tensor2D,
  tList: tf.Tensor3D
): ModalityOutputs {
  return tf.tidy(() => {
    if (objective === 'inter-only') return { inv: originalEmbedding(params, config, m, x) }
    const { h, hAug } = encodeViews(params, config, m, x, xAug)
    const pooled = tf.mean(h, 1) as tf.Tensor2D // [B, D]
    const pooledAug = tf.mean(hAug as tf.Tensor3D, 1) as tf.Tensor2D
    if (objective === 'invariant') {
      const [equiT, aug] = intraPair(params, config, m, pooled, pooledAug)
      return { inv: projectionHead(params, config, invariantHead(m), pooled), equiT, aug }
    }
    // The applied vector and the S virtual ones are independent queries over the same tokens: one predictor pass.
    const queries = config.cenMean ? tf.concat([tf.expandDims(t, 1), tList], 1) : tf.expandDims(t, 1) // [B, 1(+S), P]
    const predictions = augmentationPredictor(params, config, m, h, queries as tf.Tensor3D) // [B, 1(+S), D]
    const predicted = meanOfRows(predictions, 0, 1)
    const interInput = config.cenMean ? meanOfRows(predictions, 1, tList.shape[1]) : pooled
    const [equiT, aug] = intraPair(params, config, m, predicted, pooledAug)
    return { inv: projectionHead(params, config, invariantHead(m), interInput), equiT, aug }
  })
}

/**
 * Pretraining forward. 'equiav': official (inter = g_inter(centroid of S predictions) when cenMean,
 * else g_inter(mean_n h)); 'invariant': no predictor (equi-T slot holds g_intra(mean_n h) of the original view);
 * 'inter-only': only the inter embeddings, no augmented views.
 */
export function forwardPretrain(params: Params, config: ModelConfig, inputs: PretrainInputs, objective: Objective): PretrainOutputs {
  const a = modalityForward(params, config, objective, 'a', inputs.a, inputs.aAug, inputs.tA, inputs.tAList)
  const v = modalityForward(params, config, objective, 'v', inputs.v, inputs.vAug, inputs.tV, inputs.tVList)
  return { zAInv: a.inv, zVInv: v.inv, zAEquiT: a.equiT, zVEquiT: v.equiT, zAAug: a.aug, zVAug: v.aug }
}

/** g_inter(mean_n h): the inter-modal embedding without the predictor (the 'original' ablation row). */
function originalEmbedding(params: Params, config: ModelConfig, m: Modality, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => projectionHead(params, config, invariantHead(m), tf.mean(encodeViews(params, config, m, x).h, 1)))
}

function centroidEmbedding(params: Params, config: ModelConfig, m: Modality, x: tf.Tensor4D, tList: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const { h } = encodeViews(params, config, m, x)
    const centroid = tf.mean(augmentationPredictor(params, config, m, h, tList), 1) as tf.Tensor2D
    return projectionHead(params, config, invariantHead(m), centroid)
  })
}

/** Official `forward_feat`: inter-modal centroid embeddings [B, interProjOutDim] (always the centroid, whatever cenMean). */
export function forwardFeat(
  params: Params,
  config: ModelConfig,
  a: tf.Tensor4D,
  v: tf.Tensor4D,
  tAList: tf.Tensor3D,
  tVList: tf.Tensor3D
): { zA: tf.Tensor2D; zV: tf.Tensor2D } {
  return { zA: centroidEmbedding(params, config, 'a', a, tAList), zV: centroidEmbedding(params, config, 'v', v, tVList) }
}

/** Inter-modal embeddings of the original views without the predictor, [B, interProjOutDim] each. */
export function forwardOriginal(params: Params, config: ModelConfig, a: tf.Tensor4D, v: tf.Tensor4D): { zA: tf.Tensor2D; zV: tf.Tensor2D } {
  return { zA: originalEmbedding(params, config, 'a', a), zV: originalEmbedding(params, config, 'v', v) }
}
