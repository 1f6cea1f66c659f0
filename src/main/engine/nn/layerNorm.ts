import * as tf from '@tensorflow/tfjs'
import { heapKernel } from '../kernels/module'
import { columnSums } from './linear'

/**
 * LayerNorm over the last axis with affine weight/bias (nn.LayerNorm: biased variance, eps inside the root).
 * Custom gradient so backprop keeps only x̂ and 1/σ (the composed ops would keep several x-sized tensors):
 * dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = dy·weight.
 * On wasm each direction is one kernel of equiav-kernels.c doing the composed ops' float32 arithmetic in
 * their order (the same values bit for bit: tests/unit/wasm-kernels.test.ts), instead of about ten element-wise
 * kernels, two reductions and two products each.
 */
const LAYER_NORM = 'EquiavLayerNorm'
const LAYER_NORM_GRAD = 'EquiavLayerNormGrad'

const rowsOf = (shape: number[]): number => tf.util.sizeFromShape(shape.slice(0, -1))

export const layerNormKernels: tf.KernelConfig[] = [
  heapKernel(
    LAYER_NORM,
    ['x', 'weight', 'bias'],
    ([x]) => [x, x, [...x.slice(0, -1), 1]],
    ({ run, inputs: [x, w, b], outputs: [y, xHat, invStd], shapes: [shape], attrs }) =>
      run.layer_norm(x, w, b, attrs.eps as number, y, xHat, invStd, rowsOf(shape), shape[shape.length - 1])
  ),
  heapKernel(
    LAYER_NORM_GRAD,
    ['dy', 'xHat', 'invStd', 'weight'],
    ([dy, , , w]) => [dy, w, w],
    ({ run, inputs: [dy, xHat, invStd, w], outputs: [dx, dw, db], shapes: [shape] }) =>
      run.layer_norm_grad(dy, xHat, invStd, w, dx, dw, db, rowsOf(shape), shape[shape.length - 1])
  )
]

/** [y, x̂, 1/σ] by the composed ops */
function normalise(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor[] {
  const { mean, variance } = tf.moments(x, -1, true)
  const invStd = tf.rsqrt(tf.add(variance, tf.scalar(eps))) // [..., 1]
  const xHat = tf.mul(tf.sub(x, mean), invStd)
  return [tf.add(tf.mul(xHat, weight), bias), xHat, invStd]
}

/** [dx, dweight, dbias] by the composed ops */
function normaliseGrad(dy: tf.Tensor, xHat: tf.Tensor, invStd: tf.Tensor, weight: tf.Tensor): tf.Tensor[] {
  const dim = weight.shape[0]
  const g = tf.mul(dy, weight)
  const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xHat, tf.mean(tf.mul(g, xHat), -1, true))), invStd)
  const rows = (t: tf.Tensor): tf.Tensor2D => t.reshape([-1, dim])
  return [dx, columnSums(rows(tf.mul(dy, xHat))), columnSums(rows(dy))]
}

const onWasm = (): boolean => tf.getBackend() === 'wasm'

const layerNormOps = new Map<number, (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor>()

/** The op for one eps (a number the kernel takes as an attribute). */
function layerNormOp(eps: number): (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor {
  let op = layerNormOps.get(eps)
  if (op) return op
  op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, weight, bias, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
    const [value, xHat, invStd] = onWasm()
      ? (tf.engine().runKernel(LAYER_NORM, { x, weight, bias }, { eps }) as tf.Tensor[])
      : normalise(x, weight, bias, eps)
    save([xHat, invStd, weight])
    return {
      value,
      gradFunc: (dy: tf.Tensor, [xh, inv, w]: tf.Tensor[]) =>
        onWasm() ? (tf.engine().runKernel(LAYER_NORM_GRAD, { dy, xHat: xh, invStd: inv, weight: w }) as tf.Tensor[]) : normaliseGrad(dy, xh, inv, w)
    }
  }) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor
  layerNormOps.set(eps, op)
  return op
}

export function layerNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor, eps: number): T {
  return tf.tidy(() => layerNormOp(eps)(x, weight, bias) as T)
}
