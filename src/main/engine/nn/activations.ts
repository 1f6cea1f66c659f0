import * as tf from '@tensorflow/tfjs'

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (nn.GELU default); tfjs has no gelu op.
 * Custom gradient Φ(x) + x·φ(x), so backprop keeps only x and Φ(x) instead of four composed intermediates;
 * Φ(x) is kept rather than recomputed because erf is the dearest element-wise kernel on wasm (about 2.5× exp).
 */
const geluOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc]
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5)
  save([x, cdf])
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, [xs, phi]: tf.Tensor[]) => {
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI))
      return tf.mul(dy, tf.add(phi, tf.mul(xs, pdf)))
    }
  }
})

export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => geluOp(x) as T)
}

/** QuickGELU, x·σ(1.702x): the activation of the official augmentation encoder. */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T)
}
