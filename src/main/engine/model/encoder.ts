/**
 * The modality encoders: patch embedding + fixed sin-cos position + learned modality vector, then
 * `depth` pre-norm ViT blocks (qkv bias, exact GELU), then a final LayerNorm that differs for the
 * original view (norm_a / norm_v) and the augmented view (norm_a_aug / norm_v_aug). No CLS token.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { gelu } from '../nn/activations'
import { selfAttention } from '../nn/attention'
import { layerNorm } from '../nn/layerNorm'
import { linear, residualAdd } from '../nn/linear'
import { type Modality, type Params, param } from './params'
import { patchifyAudio, patchifyVisual } from './patchify'

export function applyLayerNorm<T extends tf.Tensor>(params: Params, name: string, x: T, eps: number): T {
  return layerNorm(x, param(params, `${name}.weight`), param(params, `${name}.bias`), eps)
}

export function applyLinear<T extends tf.Tensor>(params: Params, name: string, x: T): T {
  return linear(x, param(params, `${name}.weight`), params.get(`${name}.bias`))
}

/** Linear → GELU → Linear (timm Mlp, also the predictor's FFN). */
export function mlp<T extends tf.Tensor>(params: Params, name: string, x: T): T {
  return applyLinear(params, `${name}.fc2`, gelu(applyLinear(params, `${name}.fc1`, x)))
}

/**
 * input [B, C, ·, ·] → token embeddings [B, N, D]. The modality vector is added to the patch bias, which
 * gives the same sum with one [D] gradient for both instead of a reduction over [B, N, D] for the vector.
 */
function embed(params: Params, config: ModelConfig, m: Modality, x: tf.Tensor4D): tf.Tensor3D {
  const patches = m === 'a' ? patchifyAudio(x, config.patchSize) : patchifyVisual(x, config.patchSize)
  const name = `patch_embed_${m}.proj`
  const bias = tf.add(param(params, `${name}.bias`), param(params, `modality_${m}`).reshape([-1]))
  const tokens = linear(patches, param(params, `${name}.weight`), bias, { inputIsData: true }) // [B, N, D]
  return tf.add(tokens, param(params, `pos_embed_${m}`))
}

function block(params: Params, config: ModelConfig, name: string, x: tf.Tensor3D): tf.Tensor3D {
  const attn = selfAttention(
    applyLayerNorm(params, `${name}.norm1`, x, config.lnEps),
    {
      qkvWeight: param(params, `${name}.attn.qkv.weight`),
      qkvBias: param(params, `${name}.attn.qkv.bias`),
      projWeight: param(params, `${name}.attn.proj.weight`),
      projBias: param(params, `${name}.attn.proj.bias`)
    },
    config.numHeads
  )
  const h = residualAdd(x, attn)
  return residualAdd(h, mlp(params, `${name}.mlp`, applyLayerNorm(params, `${name}.norm2`, h, config.lnEps)))
}

export interface EncodedViews {
  /** [B, N, D] original view after norm_m */
  h: tf.Tensor3D
  /** [B, N, D] augmented view after norm_m_aug */
  hAug?: tf.Tensor3D
}

/**
 * Encode the original view and, when given, the augmented view of one modality. Both views share the
 * blocks, so they go through them as one batch of 2B (bigger matmuls, half the ops); only the final norms differ.
 */
export function encodeViews(params: Params, config: ModelConfig, m: Modality, x: tf.Tensor4D, xAug?: tf.Tensor4D): EncodedViews {
  return tf.tidy(() => {
    const batch = x.shape[0]
    let tokens = embed(params, config, m, xAug ? tf.concat([x, xAug], 0) : x) // [B or 2B, N, D]
    for (let i = 0; i < config.depth; i++) tokens = block(params, config, `blocks_${m}.${i}`, tokens)
    if (!xAug) return { h: applyLayerNorm(params, `norm_${m}`, tokens, config.lnEps) }
    const [n, d] = [tokens.shape[1], tokens.shape[2]]
    const orig = tf.slice(tokens, [0, 0, 0], [batch, n, d])
    const aug = tf.slice(tokens, [batch, 0, 0], [xAug.shape[0], n, d])
    return {
      h: applyLayerNorm(params, `norm_${m}`, orig, config.lnEps),
      hAug: applyLayerNorm(params, `norm_${m}_aug`, aug, config.lnEps)
    }
  })
}

/** Final-normed audio tokens [B, N_a, D] of a [B, 3, T, F] fbank (fine-tuning / feature extraction). */
export function encodeAudio(params: Params, config: ModelConfig, a: tf.Tensor4D): tf.Tensor3D {
  return encodeViews(params, config, 'a', a).h
}

/** Final-normed visual tokens [B, N_v, D] of a [B, 3, H, W] frame. */
export function encodeVisual(params: Params, config: ModelConfig, v: tf.Tensor4D): tf.Tensor3D {
  return encodeViews(params, config, 'v', v).h
}
