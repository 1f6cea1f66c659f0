/**
 * Collapse diagnostic: the mean cosine similarity between the embeddings of different clips in a batch.
 * Near 1 the encoder gives every clip the same embedding (the contrastive loss then sits at ln B and its
 * gradients vanish); healthy training keeps it well below 1.
 */
import * as tf from '@tensorflow/tfjs'
import { l2Normalize } from '../losses'

/** mean_{i≠j} cos(z_i, z_j) of z [B, D]; NaN for a batch of one */
export function embeddingSpread(z: tf.Tensor2D): number {
  const n = z.shape[0]
  if (n < 2) return NaN
  return tf.tidy(() => {
    const u = l2Normalize(z)
    const total = tf.sum(tf.matMul(u, tf.transpose(u))).dataSync()[0] // includes the n diagonal ones
    return (total - n) / (n * n - n)
  })
}
