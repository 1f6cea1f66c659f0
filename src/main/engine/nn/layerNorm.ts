import * as tf from '@tensorflow/tfjs'
import { columnSums } from './linear'

/**
 * LayerNorm over the last axis with affine weight/bias (nn.LayerNorm: biased variance, eps inside the root).
 * Custom gradient so backprop keeps only x̂ and 1/σ (the composed ops would keep several x-sized tensors):
 * dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = dy·weight.
 */
const layerNormOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc | number>) => {
  const [x, weight, bias, epsT, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Scalar, tf.GradSaveFunc]
  const { mean, variance } = tf.moments(x, -1, true)
  const invStd = tf.rsqrt(tf.add(variance, epsT)) // [..., 1]
  const xHat = tf.mul(tf.sub(x, mean), invStd)
  save([xHat, invStd, weight])
  return {
    value: tf.add(tf.mul(xHat, weight), bias),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xh, inv, w] = saved
      const dim = w.shape[0]
      const g = tf.mul(dy, w)
      const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))), inv)
      const rows = (t: tf.Tensor): tf.Tensor2D => t.reshape([-1, dim])
      return [dx, columnSums(rows(tf.mul(dy, xh))), columnSums(rows(dy)), tf.zerosLike(epsT)]
    }
  }
})

export function layerNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor, eps: number): T {
  return tf.tidy(() => layerNormOp(x, weight, bias, tf.scalar(eps)) as T)
}
