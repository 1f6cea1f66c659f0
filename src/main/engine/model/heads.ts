import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { applyLayerNorm, applyLinear } from './encoder'
import type { Modality, Params } from './params'

/** Official MLPProjectionHead: Linear–LN–ReLU–Linear–LN–ReLU–Linear–LN; x [B, D] → [B, out]. */
export function projectionHead(params: Params, config: ModelConfig, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const eps = config.lnEps
    const h1 = tf.relu(applyLayerNorm(params, `${name}.norm1`, applyLinear(params, `${name}.fc1`, x), eps))
    const h2 = tf.relu(applyLayerNorm(params, `${name}.norm2`, applyLinear(params, `${name}.fc2`, h1), eps))
    return applyLayerNorm(params, `${name}.norm3`, applyLinear(params, `${name}.fc3`, h2), eps)
  })
}

/** Intra-modal (equivariant) head g_intra of modality m. */
export const equivariantHead = (m: Modality): string => `pred_${m}_intra`
/** Inter-modal (invariant) head g_inter of modality m. */
export const invariantHead = (m: Modality): string => `pred_${m}_inter`
