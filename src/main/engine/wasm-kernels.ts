/**
 * The engine's own kernels on the wasm backend: stock kernels replaced where they copy more than the
 * operation needs (Identity, Slice: thousands of calls a training step, whose copies are host buffers for V8
 * to collect and heap traffic) or run far below what the machine does (Transpose), nn/batchMatMul's sliced
 * attention products, and the fused kernels of equiav-kernels.c that nn/ calls on wasm (column sums,
 * LayerNorm, GELU's element-wise parts, softmax's backward).
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { equiavKernels } from './kernels/module'
import { geluKernels, softmaxGradKernel } from './nn/activations'
import { slicedMatMulKernel } from './nn/batchMatMul'
import { layerNormKernels } from './nn/layerNorm'
import { columnSumsKernel } from './nn/linear'

/**
 * wasm's Identity kernel copies its input, and TensorFlow.js runs it on every tensor it keeps for a backward
 * pass (engine.clone), several hundred copies a training step. Tensors never change in place (a variable's
 * assign takes another buffer), so the kernel here shares the input's buffer, counting one more reference,
 * as wasm's own Reshape does.
 */
function sharingIdentity(): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo
      ;(backend as BackendWasm).incRef(x.dataId)
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
    }
  }
}

/**
 * out = x[begin : begin + size] for row-major float32 `x` of `shape`, copied as runs: the innermost axes
 * that are taken whole, with the first one that is not, are one contiguous run per index of the axes
 * before them.
 */
export function copySlice(x: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Float32Array): void {
  const rank = shape.length
  if (rank === 0) {
    out.set(x.subarray(0, out.length))
    return
  }
  const strides = [...tf.util.computeStrides([...shape]), 1]
  let k = rank - 1 // the run's first axis
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--
  const run = size[k] * strides[k]
  const index = new Array<number>(k).fill(0)
  let base = 0
  for (let a = 0; a < rank; a++) base += begin[a] * strides[a]
  for (let o = 0; o < out.length; o += run) {
    let src = base
    for (let a = 0; a < k; a++) src += index[a] * strides[a]
    out.set(x.subarray(src, src + run), o)
    for (let a = k - 1; a >= 0; a--) {
      if (++index[a] < size[a]) break
      index[a] = 0
    }
  }
}

/** `stock` with `run` doing its work on float32 inputs x; any other dtype goes to the stock kernel. */
function forFloat32(stock: tf.KernelConfig, run: (x: tf.TensorInfo, attrs: tf.NamedAttrMap, backend: BackendWasm) => tf.TensorInfo): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo
      return x.dtype === 'float32' ? run(x, args.attrs ?? {}, args.backend as BackendWasm) : stock.kernelFunc(args)
    }
  }
}

/**
 * wasm's Slice reads its whole input into a new host buffer (readSync) before it copies the slice out: the
 * encoder's split of its 2B-row batch into the two views and every q/k/v block of the fused projection,
 * megabytes of fresh ArrayBuffers a step on each engine worker, which V8 answers with garbage collections.
 * Here a float32 slice is copied from the wasm heap to the wasm heap (copySlice).
 */
function heapSlice(stock: tf.KernelConfig): tf.KernelConfig {
  return forFloat32(stock, (x, attrs, backend) => {
    const { begin, size } = attrs as unknown as tf.SliceAttrs
    const [from, count] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size)
    const out = backend.makeOutput(count, 'float32')
    // views made after the output is allocated (an allocation may grow the heap and detach older views)
    copySlice(backend.typedArrayFromHeap(x) as Float32Array, x.shape, from, count, backend.typedArrayFromHeap(out) as Float32Array)
    return out
  })
}

/**
 * The same permutation on fewer axes (at least one): axes of size 1 dropped, and x's axes that stay side by
 * side in y merged into one. y = transpose(x, perm) keeps its values in the same order.
 */
export function collapseAxes(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((n, a) => (n === 1 ? -1 : a)).filter((a) => a >= 0)
  const position = new Map(kept.map((a, i) => [a, i]))
  // y's axes as positions among x's kept axes, cut into runs of consecutive x axes
  const runs: number[][] = []
  for (const a of perm) {
    const i = position.get(a)
    if (i === undefined) continue
    const run = runs[runs.length - 1]
    if (run && run[run.length - 1] === i - 1) run.push(i)
    else runs.push([i])
  }
  if (runs.length === 0) return { shape: [1], perm: [0] } // every axis of size 1: one value
  const inXOrder = [...runs].sort((r, s) => r[0] - s[0])
  return {
    shape: inXOrder.map((run) => run.reduce((n, i) => n * shape[kept[i]], 1)),
    perm: runs.map((run) => inXOrder.indexOf(run))
  }
}

/**
 * wasm's Transpose walks the output one element at a time (a [4864, 512] float32 swap: 6.6 ms; this kernel,
 * equiav-kernels.c's transpose in 4 × 4 SIMD blocks: 1.7 ms). The same values in the same places.
 */
function heapTranspose(stock: tf.KernelConfig): tf.KernelConfig {
  return forFloat32(stock, (x, attrs, backend) => {
    const { perm } = attrs as unknown as tf.TransposeAttrs
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]),
      'float32'
    )
    if (tf.util.sizeFromShape(x.shape) === 0) return out
    const axes = collapseAxes(x.shape, perm)
    const kernels = equiavKernels(backend)
    const rank = axes.shape.length
    // shape and perm, then room for the kernel's strides and index
    kernels.run.transpose(kernels.offset(x), kernels.offset(out), rank, kernels.dims([...axes.shape, ...axes.perm], 2 * rank))
    return out
  })
}

let installed = false
const replaced = new Map<string, tf.KernelConfig>()

/** The backend's own kernel that the engine replaced under `name` (for benchmarks that compare the two). */
export function stockKernel(name: string): tf.KernelConfig | undefined {
  return replaced.get(name)
}

/** Installs the kernels above and nn/'s (the sliced products and the fused kernels) on the wasm backend, once it is registered. */
export function installWasmKernels(): void {
  if (installed) return
  installed = true
  const stock = (name: string): tf.KernelConfig => {
    const config = tf.getKernel(name, 'wasm')
    if (!config) throw new Error(`the wasm backend has no ${name} kernel`)
    replaced.set(name, config)
    return config
  }
  for (const config of [sharingIdentity(), heapSlice(stock(tf.Slice)), heapTranspose(stock(tf.Transpose)), slicedMatMulKernel, columnSumsKernel, ...layerNormKernels, ...geluKernels, softmaxGradKernel]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm')
    tf.registerKernel(config)
  }
}
