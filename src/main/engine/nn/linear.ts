/**
 * Dense layer. On wasm only a plain 2-D matMul (no transpose flags) takes the fast XNNPACK path, while
 * tf.matMul's stock gradient uses transpose flags; so the gradient is written with explicit transposes.
 * Backprop keeps only x: W is read from the closure (saving it would make wasm copy every weight on
 * every call), so W must outlive the backward pass, as parameters do; the bias add lives inside the op
 * because a separate tf.add would also keep the [rows, out] pre-bias product.
 * Weights are stored [in, out] (PyTorch's Linear weight transposed).
 */
import * as tf from '@tensorflow/tfjs'
import { heapKernel } from '../kernels/module'

/**
 * Σ over rows of x [rows, cols] → [cols]. wasm reduces over a leading axis through a Transpose, about 12×
 * slower than the product 1ᵀ·x (a bias gradient of the tiny audio MLP, [4864, 512]: 23 ms against 1.8 ms,
 * measured beside other work); and the product copies x to pack it, so on wasm the sums are
 * equiav-kernels.c's column_sums, the rows added in the product's order (the same values bit for bit).
 */
const COLUMN_SUMS = 'EquiavColumnSums'

export const columnSumsKernel = heapKernel(COLUMN_SUMS, ['x'], ([x]) => [[x[1]]], ({ run, inputs: [x], outputs: [out], shapes: [[rows, cols]] }) =>
  run.column_sums(x, out, rows, cols)
)

/** every row of dx is dy */
tf.registerGradient({
  kernelName: COLUMN_SUMS,
  inputsToSave: ['x'],
  gradFunc: (dy, [x]) => ({ x: () => tf.mul(tf.onesLike(x), dy as tf.Tensor) })
})

export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  if (tf.getBackend() === 'wasm') return tf.engine().runKernel(COLUMN_SUMS, { x }) as tf.Tensor1D
  return tf.tidy(() => tf.matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]]))
}

/**
 * dW = xᵀ·dy for x [rows, in] and dy [rows, out]. When x is the wider of the two, as (dyᵀ·x)ᵀ: the transpose
 * is then of the narrower [rows, out] plus a small [out, in] one (the tiny audio patch embedding: [4864, 128]
 * instead of [4864, 768]). Each entry is the same products summed over rows in the same order, so the same
 * values bit for bit (tests/unit/nn.test.ts).
 */
export function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (x.shape[1] > dy.shape[1]) return tf.tidy(() => tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D)
  return tf.tidy(() => tf.matMul(tf.transpose(x), dy))
}

function productGrads(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  return [tf.matMul(dy, tf.transpose(w)), weightGrad(x, dy)]
}

/**
 * x·W (+ b) as one op. `saveWeight` keeps W for backprop (a copy on wasm): needed only when W is an
 * intermediate, such as a slice of a fused parameter, that the enclosing tidy disposes before backprop.
 */
function dense(withBias: boolean, saveWeight: boolean): (...inputs: tf.Tensor[]) => tf.Tensor2D {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, w] = args as [tf.Tensor2D, tf.Tensor2D]
    const b = withBias ? (args[2] as tf.Tensor1D) : undefined
    const save = args[args.length - 1] as tf.GradSaveFunc
    save(saveWeight ? [x, w] : [x])
    const product = tf.matMul(x, w) // [rows, out]
    return {
      value: b ? tf.add(product, b) : product,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const grads = productGrads(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, saveWeight ? (saved[1] as tf.Tensor2D) : w)
        return b ? [...grads, columnSums(dy as tf.Tensor2D)] : grads
      }
    }
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D
}

const DENSE = { plain: dense(false, false), bias: dense(true, false), savedPlain: dense(false, true), savedBias: dense(true, true) }

/**
 * x·W (+ b) for x that is data (an input batch's patches): only W and b are the op's inputs, so backprop
 * computes dW and db and never the dY·Wᵀ that x would get (for the `tiny` audio patches, a [4864, 128]·[128, 768]
 * product a step, thrown away).
 */
function denseOfData(x: tf.Tensor2D, withBias: boolean): (...inputs: tf.Tensor[]) => tf.Tensor2D {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const w = args[0] as tf.Tensor2D
    const b = withBias ? (args[1] as tf.Tensor1D) : undefined
    const save = args[args.length - 1] as tf.GradSaveFunc
    save([x])
    const product = tf.matMul(x, w)
    return {
      value: b ? tf.add(product, b) : product,
      gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
        const dw = weightGrad(xs as tf.Tensor2D, dy as tf.Tensor2D)
        return b ? [dw, columnSums(dy as tf.Tensor2D)] : [dw]
      }
    }
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D
}

export interface LinearOptions {
  /** W is not a parameter but an intermediate (see `dense`) */
  weightIsIntermediate?: boolean
  /** x is data, not computed from parameters: it gets no gradient (see `denseOfData`) */
  inputIsData?: boolean
}

function denseFor(rows: tf.Tensor2D, withBias: boolean, o: LinearOptions): (...inputs: tf.Tensor[]) => tf.Tensor2D {
  if (o.inputIsData) return denseOfData(rows, withBias)
  const op = o.weightIsIntermediate ? (withBias ? DENSE.savedBias : DENSE.savedPlain) : withBias ? DENSE.bias : DENSE.plain
  return (...inputs) => op(rows, ...inputs)
}

/** y = x·W + b over the last axis; x may have any rank ≥ 2 (leading axes are flattened into rows). */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor, b?: tf.Tensor, o: LinearOptions = {}): T {
  return tf.tidy(() => {
    const [inDim, outDim] = w.shape
    const rows = (x.rank === 2 ? x : x.reshape([-1, inDim])) as tf.Tensor2D
    const op = denseFor(rows, b !== undefined, o)
    const y = b ? op(w, b) : op(w) // [rows, out]
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
