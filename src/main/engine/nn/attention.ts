/**
 * Multi-head attention as the official model uses it: timm's ViT self-attention (one fused qkv Linear)
 * and the predictor's cross-attention (separate to_q/to_k/to_v, bias-free to_out).
 * Projections are 2-D matmuls via `linear`; the per-head score and mixing products via `batchMatMul`.
 */
import * as tf from '@tensorflow/tfjs'
import { softmax } from './activations'
import { batchMatMul } from './batchMatMul'
import { linear } from './linear'

export interface SelfAttentionWeights {
  /** [D, 3D] fused q‖k‖v projection and its bias [3D] */
  qkvWeight: tf.Tensor
  qkvBias: tf.Tensor
  /** [D, D] output projection and its bias [D] */
  projWeight: tf.Tensor
  projBias: tf.Tensor
}

export interface CrossAttentionWeights {
  /** [Dq, H·hd] */
  qWeight: tf.Tensor
  qBias: tf.Tensor
  /** [Dkv, H·hd] */
  kWeight: tf.Tensor
  kBias: tf.Tensor
  vWeight: tf.Tensor
  vBias: tf.Tensor
  /** [H·hd, Dkv], no bias (official to_out) */
  outWeight: tf.Tensor
}

/** [B, N, H·hd] → [B, H, N, hd] */
function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [b, n, inner] = x.shape
  return tf.transpose(x.reshape<tf.Tensor4D>([b, n, heads, inner / heads]), [0, 2, 1, 3])
}

/** [B, N, H·hd] → [B, H, hd, N]: keys laid out so the score product needs no transpose flag */
function splitHeadsTransposed(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [b, n, inner] = x.shape
  return tf.transpose(x.reshape<tf.Tensor4D>([b, n, heads, inner / heads]), [0, 2, 3, 1])
}

/**
 * softmax(q·kᵀ·scale)·v per head; q [B,H,S,hd], kT [B,H,hd,N], v [B,H,N,hd] → [B, S, H·hd].
 * The scale is applied to q rather than to the scores so backprop keeps no extra [S, N] tensor per head.
 */
function attend(q: tf.Tensor4D, kT: tf.Tensor4D, v: tf.Tensor4D, scale: number): tf.Tensor3D {
  const [b, h, s, hd] = q.shape
  const weights = softmax(batchMatMul(tf.mul(q, scale), kT)) // [B, H, S, N]
  const mixed = batchMatMul(weights, v) // [B, H, S, hd]
  return tf.transpose(mixed, [0, 2, 1, 3]).reshape([b, s, h * hd])
}

/** ViT self-attention; x [B, N, D] → [B, N, D]; head width D/heads, scale hd^−½. */
export function selfAttention(x: tf.Tensor3D, w: SelfAttentionWeights, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const dim = x.shape[2]
    // q, k and v from column blocks of the fused weight: splitting the [B, N, 3D] product along its last
    // axis is a strided copy that costs wasm more than the three products (and its gradient a concat)
    const project = (i: number): tf.Tensor3D =>
      linear(x, tf.slice(w.qkvWeight, [0, i * dim], [dim, dim]), tf.slice(w.qkvBias, [i * dim], [dim]), { weightIsIntermediate: true })
    const [q, k, v] = [0, 1, 2].map(project)
    const mixed = attend(splitHeads(q, heads), splitHeadsTransposed(k, heads), splitHeads(v, heads), (dim / heads) ** -0.5)
    return linear(mixed, w.projWeight, w.projBias)
  })
}

/** Cross-attention of S queries over N tokens; query [B, S, Dq], tokens [B, N, Dkv] → [B, S, Dkv]. */
export function crossAttention(
  query: tf.Tensor3D,
  tokens: tf.Tensor3D,
  w: CrossAttentionWeights,
  heads: number,
  headDim: number
): tf.Tensor3D {
  return tf.tidy(() => {
    const q = splitHeads(linear(query, w.qWeight, w.qBias), heads)
    const kT = splitHeadsTransposed(linear(tokens, w.kWeight, w.kBias), heads)
    const v = splitHeads(linear(tokens, w.vWeight, w.vBias), heads)
    return linear(attend(q, kT, v, headDim ** -0.5), w.outWeight)
  })
}
