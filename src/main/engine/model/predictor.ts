/**
 * The transformation predictor u(h, t) (official `aug_encoder_m` + `CrossAttentionBlock` `cross_attn_m`):
 * each augmentation parameter vector t_s becomes a query over the encoder tokens h.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { quickGelu } from '../nn/activations'
import { crossAttention } from '../nn/attention'
import { applyLayerNorm, applyLinear, mlp } from './encoder'
import { type Modality, type Params, param } from './params'

/** Linear(P→E) → QuickGELU → Linear(E→E) → QuickGELU → Linear(E→E); t [B, S, P] → [B, S, E]. */
export function augmentationEncoder(params: Params, m: Modality, t: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const name = `aug_encoder_${m}`
    const e1 = quickGelu(applyLinear(params, `${name}.0`, t))
    const e2 = quickGelu(applyLinear(params, `${name}.2`, e1))
    return applyLinear(params, `${name}.4`, e2)
  })
}

/**
 * One prediction per parameter vector: h [B, N, D] (final-normed tokens), t [B, S, P] → [B, S, D].
 * x_s = mean_n(h) + CrossAttn(LN(AugEnc(t_s)), h); x_s += MLP(LN(x_s)).
 * The official block returns mean_s x_s; the rows are independent, so callers may pack several
 * groups of vectors into one call (sharing the k/v projections of h) and average each group.
 */
export function augmentationPredictor(params: Params, config: ModelConfig, m: Modality, h: tf.Tensor3D, t: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const name = `cross_attn_${m}`
    const query = applyLayerNorm(params, `${name}.norm_aug`, augmentationEncoder(params, m, t), config.lnEps)
    const attn = crossAttention(
      query,
      h,
      {
        qWeight: param(params, `${name}.attn.to_q.weight`),
        qBias: param(params, `${name}.attn.to_q.bias`),
        kWeight: param(params, `${name}.attn.to_k.weight`),
        kBias: param(params, `${name}.attn.to_k.bias`),
        vWeight: param(params, `${name}.attn.to_v.weight`),
        vBias: param(params, `${name}.attn.to_v.bias`),
        outWeight: param(params, `${name}.attn.to_out.weight`)
      },
      config.predictorHeads,
      config.predictorHeadDim
    ) // [B, S, D]
    const x = tf.add(tf.mean(h, 1, true), attn) // residual base: pooled tokens broadcast over S
    return tf.add(x, mlp(params, `${name}.mlp`, applyLayerNorm(params, `${name}.norm`, x, config.lnEps)))
  })
}
