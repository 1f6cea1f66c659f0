/**
 * EquiAV losses (official pt_trainer.py, loss/ntxent.py, loss/simclr.py; ../shared/EQUIAV.md §3).
 * All embeddings are L2-normalised first; τ is fixed (0.07 in the paper).
 */
import * as tf from '@tensorflow/tfjs'
import type { LossTerms, LossWeights, PretrainOutputs } from './types'

import { DEFAULT_TAU } from '../../shared/requests'

export { DEFAULT_TAU }
export const DEFAULT_LOSS_WEIGHTS: LossWeights = { inter: 1 / 3, intraA: 1 / 3, intraV: 1 / 3 }

/** F.normalize(x, dim=-1): x / max(‖x‖, 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)))
}

/** x · yᵀ / τ with an explicit transpose (wasm's fast path has no transpose flags). */
function logits(x: tf.Tensor2D, y: tf.Tensor2D, tau: number): tf.Tensor2D {
  return tf.div(tf.matMul(x, tf.transpose(y)), tau)
}

/**
 * Cross-entropy with the positive of row i in column i (the official `labels = arange(B)`):
 * −mean_i log softmax(l)_ii, read through a one-hot mask because gather has no gradient on wasm.
 */
function diagonalCrossEntropy(l: tf.Tensor2D): tf.Scalar {
  const n = l.shape[0]
  const mask = tf.concat([tf.eye(n), tf.zeros([n, l.shape[1] - n])], 1) // [n, columns]
  return tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(l), mask)), n)) as tf.Scalar
}

/** Inter-modal loss: symmetric InfoNCE between audio and visual embeddings, positives on the diagonal. */
export function interModalLoss(zA: tf.Tensor2D, zV: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const a = l2Normalize(zA)
    const v = l2Normalize(zV)
    return tf.div(tf.add(diagonalCrossEntropy(logits(a, v, tau)), diagonalCrossEntropy(logits(v, a, tau))), 2)
  })
}

/**
 * Intra-modal equivariant loss (SimCLR / NT-Xent form) between the predicted embeddings p = ẑ and the
 * embeddings q = z' of the actually augmented inputs. Each anchor p_i sees q_1..q_N and p_j (j≠i):
 * 2N−1 candidates with the positive q_i in the denominator; the self-similarity is removed by
 * subtracting 1e9, as the official code does. Averaged over the p→q and q→p directions.
 */
export function intraModalEquivariantLoss(pred: tf.Tensor2D, actual: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const p = l2Normalize(pred)
    const q = l2Normalize(actual)
    const selfMask = tf.mul(tf.eye(p.shape[0]), 1e9)
    const lossP = diagonalCrossEntropy(tf.concat([logits(p, q, tau), tf.sub(logits(p, p, tau), selfMask) as tf.Tensor2D], 1))
    const lossQ = diagonalCrossEntropy(tf.concat([logits(q, p, tau), tf.sub(logits(q, q, tau), selfMask) as tf.Tensor2D], 1))
    return tf.div(tf.add(lossP, lossQ), 2)
  })
}

/** Total = w_inter·L_inter + w_a·L_intra_a + w_v·L_intra_v; intra terms are 0 when the objective has none. */
export function equiavLoss(out: PretrainOutputs, w: LossWeights, tau: number): LossTerms {
  const inter = interModalLoss(out.zAInv, out.zVInv, tau)
  const intra = (p?: tf.Tensor2D, q?: tf.Tensor2D): tf.Scalar => (p && q ? intraModalEquivariantLoss(p, q, tau) : tf.scalar(0))
  const intraA = intra(out.zAEquiT, out.zAAug)
  const intraV = intra(out.zVEquiT, out.zVAug)
  const total = tf.tidy(() => tf.addN([tf.mul(inter, w.inter), tf.mul(intraA, w.intraA), tf.mul(intraV, w.intraV)]) as tf.Scalar)
  return { total, inter, intraA, intraV }
}
