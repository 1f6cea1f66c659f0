import * as tf from '@tensorflow/tfjs'
import { heapKernel } from '../kernels/module'

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (nn.GELU default); tfjs has no gelu op.
 * Custom gradient Φ(x) + x·φ(x), so backprop keeps only x and Φ(x) instead of four composed intermediates;
 * Φ(x) is kept rather than recomputed because erf is the dearest element-wise kernel on wasm (about 2.5× exp).
 * On wasm, the element-wise arithmetic around the backend's erf and exp is one kernel of equiav-kernels.c
 * each (the composed ops' float32 operations in their order, so the same values bit for bit): 6 passes over
 * the MLP's hidden activations instead of 12.
 */
const GELU_FROM_ERF = 'EquiavGeluFromErf'
const GELU_DENSITY_EXPONENT = 'EquiavGeluDensityExponent'
const GELU_GRAD = 'EquiavGeluGrad'
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

const sizeOf = (shape: number[]): number => tf.util.sizeFromShape(shape)

export const geluKernels: tf.KernelConfig[] = [
  heapKernel(GELU_FROM_ERF, ['x', 'erf'], ([x]) => [x, x], ({ run, inputs: [x, erf], outputs: [cdf, y], shapes: [shape] }) =>
    run.gelu_from_erf(x, erf, cdf, y, sizeOf(shape))
  ),
  heapKernel(GELU_DENSITY_EXPONENT, ['x'], ([x]) => [x], ({ run, inputs: [x], outputs: [out], shapes: [shape] }) =>
    run.gelu_density_exponent(x, out, sizeOf(shape))
  ),
  heapKernel(GELU_GRAD, ['dy', 'x', 'cdf', 'e'], ([dy]) => [dy], ({ run, inputs: [dy, x, cdf, e], outputs: [dx], shapes: [shape] }) =>
    run.gelu_grad(dy, x, cdf, e, INV_SQRT_2PI, dx, sizeOf(shape))
  )
]

const onWasm = (): boolean => tf.getBackend() === 'wasm'

const geluOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc]
  const erf = tf.erf(tf.mul(x, Math.SQRT1_2))
  let cdf: tf.Tensor
  let value: tf.Tensor
  if (onWasm()) [cdf, value] = tf.engine().runKernel(GELU_FROM_ERF, { x, erf }) as tf.Tensor[]
  else {
    cdf = tf.mul(tf.add(erf, 1), 0.5)
    value = tf.mul(x, cdf)
  }
  save([x, cdf])
  return {
    value,
    gradFunc: (dy: tf.Tensor, [xs, phi]: tf.Tensor[]) => {
      if (onWasm()) {
        const e = tf.exp(tf.engine().runKernel(GELU_DENSITY_EXPONENT, { x: xs }) as tf.Tensor)
        return tf.engine().runKernel(GELU_GRAD, { dy, x: xs, cdf: phi, e }) as tf.Tensor
      }
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI)
      return tf.mul(dy, tf.add(phi, tf.mul(xs, pdf)))
    }
  }
})

export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => geluOp(x) as T)
}

/**
 * Softmax over the last axis. On wasm its backward, dx = dy·y − Σ(dy·y)·y, is one kernel of
 * equiav-kernels.c (the stock gradient's float32 operations in its order: the same values bit for bit)
 * instead of four passes over the attention weights and a reduction.
 */
const SOFTMAX_GRAD = 'EquiavSoftmaxGrad'

export const softmaxGradKernel = heapKernel(SOFTMAX_GRAD, ['dy', 'y'], ([dy]) => [dy], ({ run, inputs: [dy, y], outputs: [dx], shapes: [shape] }) =>
  run.softmax_grad(dy, y, dx, sizeOf(shape.slice(0, -1)), shape[shape.length - 1])
)

const softmaxOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc]
  const y = tf.softmax(x)
  save([y])
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [ys]: tf.Tensor[]) => {
      if (onWasm()) return tf.engine().runKernel(SOFTMAX_GRAD, { dy, y: ys }) as tf.Tensor
      const dyTimesY = tf.mul(dy, ys)
      return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, -1, true), ys))
    }
  }
})

export function softmax<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => softmaxOp(x) as T)
}

/** QuickGELU, x·σ(1.702x): the activation of the official augmentation encoder. */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T)
}
