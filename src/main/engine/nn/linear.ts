/**
 * Dense layer. On wasm only a plain 2-D matMul (no transpose flags) takes the fast XNNPACK path, while
 * tf.matMul's stock gradient uses transpose flags; so the gradient is written with explicit transposes.
 * Backprop keeps only x: W is read from the closure (saving it would make wasm copy every weight on
 * every call), so W must outlive the backward pass, as parameters do; the bias add lives inside the op
 * because a separate tf.add would also keep the [rows, out] pre-bias product.
 * Weights are stored [in, out] (PyTorch's Linear weight transposed).
 */
import * as tf from '@tensorflow/tfjs'

function productGrads(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  return [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(x), dy)]
}

const matMul2d = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
  save([x])
  return {
    value: tf.matMul(x, w), // [rows, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => productGrads(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, w)
  }
})

const matMulBias2d = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
  save([x])
  return {
    value: tf.add(tf.matMul(x, w), b), // [rows, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      ...productGrads(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, w),
      tf.sum(dy, 0)
    ]
  }
})

/** y = x·W + b over the last axis; x may have any rank ≥ 2 (leading axes are flattened into rows). */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor, b?: tf.Tensor): T {
  return tf.tidy(() => {
    const [inDim, outDim] = w.shape
    const rows = x.rank === 2 ? (x as tf.Tensor) : x.reshape([-1, inDim])
    const y = b ? matMulBias2d(rows, w, b) : matMul2d(rows, w) // [rows, out]
    return (x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outDim])) as T
  })
}

/**
 * a + b for equal shapes (residual connections). tf.add keeps both inputs for backprop (wasm copies them);
 * the gradient of an equal-shape sum needs neither.
 */
export const residualAdd = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b] = args as [tf.Tensor, tf.Tensor]
  return {
    value: tf.add(a, b),
    // two distinct tensors: the engine accumulates and disposes per input
    gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)]
  }
}) as <T extends tf.Tensor>(a: T, b: T) => T
