import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { columnSums } from './linear'

/**
 * LayerNorm over the last axis with affine weight/bias (nn.LayerNorm: biased variance, eps inside the root).
 * Backprop keeps only x̂ and 1/σ: dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = dy·weight,
 * dweight = Σ_rows dy·x̂, dbias = Σ_rows dy.
 *
 * On wasm the forward and the backward are one kernel each (`layerNormKernels`), walking the rows in the wasm
 * heap in JavaScript: the composed version below is 9 kernels forward and 12 backward, each a pass over the
 * tensor and a dispatch (a `tiny` step has 28 LayerNorms). Elsewhere the composed version runs.
 */
const composedLayerNorm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
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

const FORWARD = 'EquiavLayerNorm'
const BACKWARD = 'EquiavLayerNormGrad'

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown }
const heap = (backend: BackendWasm, t: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array

/** y, x̂ and 1/σ (one per row) of x [..., D]; sums in float64, each value rounded once when stored. */
function forwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as BackendWasm
  const { x, weight, bias, eps } = inputs as Record<'x' | 'weight' | 'bias' | 'eps', tf.TensorInfo>
  const dim = weight.shape[0]
  const rows = tf.util.sizeFromShape(x.shape) / dim
  const outs = [be.makeOutput(x.shape, 'float32'), be.makeOutput(x.shape, 'float32'), be.makeOutput([rows], 'float32')]
  // views made after the outputs are allocated (an allocation may grow the heap and detach older views)
  const [xv, w, b, e] = [x, weight, bias, eps].map((t) => heap(be, t))
  const [y, xHat, invStd] = outs.map((t) => heap(be, t))
  for (let r = 0, o = 0; r < rows; r++, o += dim) {
    let sum = 0
    for (let d = 0; d < dim; d++) sum += xv[o + d]
    const mean = sum / dim
    let squares = 0
    for (let d = 0; d < dim; d++) squares += (xv[o + d] - mean) ** 2
    const inv = 1 / Math.sqrt(squares / dim + e[0])
    invStd[r] = inv
    for (let d = 0; d < dim; d++) {
      const h = (xv[o + d] - mean) * inv
      xHat[o + d] = h
      y[o + d] = h * w[d] + b[d]
    }
  }
  return outs
}

/** dx, dweight and dbias from dy, x̂, 1/σ and the weight. */
function backwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as BackendWasm
  const { dy, xHat, invStd, weight } = inputs as Record<'dy' | 'xHat' | 'invStd' | 'weight', tf.TensorInfo>
  const dim = weight.shape[0]
  const rows = invStd.shape[0]
  const outs = [be.makeOutput(dy.shape, 'float32'), be.makeOutput([dim], 'float32'), be.makeOutput([dim], 'float32')]
  const [g, xh, inv, w] = [dy, xHat, invStd, weight].map((t) => heap(be, t))
  const [dx, dw, db] = outs.map((t) => heap(be, t))
  const dwSum = new Float64Array(dim)
  const dbSum = new Float64Array(dim)
  for (let r = 0, o = 0; r < rows; r++, o += dim) {
    let meanG = 0
    let meanGx = 0
    for (let d = 0; d < dim; d++) {
      const gw = g[o + d] * w[d]
      meanG += gw
      meanGx += gw * xh[o + d]
      dwSum[d] += g[o + d] * xh[o + d]
      dbSum[d] += g[o + d]
    }
    meanG /= dim
    meanGx /= dim
    for (let d = 0; d < dim; d++) dx[o + d] = (g[o + d] * w[d] - meanG - xh[o + d] * meanGx) * inv[r]
  }
  dw.set(dwSum)
  db.set(dbSum)
  return outs
}

/** The two kernels of the fused LayerNorm on wasm (installed by engine/wasm-kernels.ts). */
export const layerNormKernels: tf.KernelConfig[] = [
  { kernelName: FORWARD, backendName: 'wasm', kernelFunc: forwardKernel as tf.KernelFunc },
  { kernelName: BACKWARD, backendName: 'wasm', kernelFunc: backwardKernel as tf.KernelFunc }
]

const fusedLayerNorm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, weight, bias, eps, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Scalar, tf.GradSaveFunc]
  const [y, xHat, invStd] = tf.engine().runKernel(FORWARD, { x, weight, bias, eps }, {}) as tf.Tensor[]
  save([xHat, invStd, weight])
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [xh, inv, w]: tf.Tensor[]) => {
      const [dx, dw, db] = tf.engine().runKernel(BACKWARD, { dy, xHat: xh, invStd: inv, weight: w }, {}) as tf.Tensor[]
      return [dx, dw, db, tf.zerosLike(eps)]
    }
  }
})

/** The composed version on any backend (the fused one is checked against it). */
export function composedLayerNormOf<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor, eps: number): T {
  return tf.tidy(() => composedLayerNorm(x, weight, bias, tf.scalar(eps)) as T)
}

export function layerNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor, eps: number): T {
  if (tf.getBackend() !== 'wasm') return composedLayerNormOf(x, weight, bias, eps)
  return tf.tidy(() => fusedLayerNorm(x, weight, bias, tf.scalar(eps)) as T)
}
