/**
 * Batched matrix product [n, m, k]·[n, k, p] → [n, m, p], the attention score and mixing products.
 * On wasm a batched matMul misses XNNPACK's fast path that a plain 2-D one takes (the backend falls back to
 * a scalar loop), so there the n slices are n plain 2-D products, run by one kernel of our own (below) that
 * points the backend's 2-D product at each slice where it lies in the wasm heap: no tensor, copy or
 * TensorFlow.js dispatch per slice (`npm run bench`, `attention_products_ms`). The gradient is dA = dC·Bᵀ and
 * dB = Aᵀ·dC, computed the same way with the transposes made explicit. Other backends use tf.matMul.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { equiavKernels } from '../kernels/module'

/** The name of the sliced product's kernel on wasm. */
export const SLICED_MAT_MUL = 'EquiavSlicedMatMul'

/**
 * The functions of tfjs-backend-wasm's module the kernel calls: its tensor registry (an id → a float range of
 * the heap) and its BatchMatMul, which on [1, m, k]·[1, k, p] takes XNNPACK's fully connected path and
 * releases the operator it made for b when b's id is disposed.
 */
interface WasmModule {
  _register_tensor(id: number, size: number, byteOffset: number): void
  _dispose_data(id: number): void
  _BatchMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, transposeA: number, transposeB: number, outId: number): void
}

/** Per backend: its module and three tensor ids of its own numbering kept for the slices. */
interface SliceState {
  mod: WasmModule
  a: number
  b: number
  out: number
}
const sliceStates = new WeakMap<BackendWasm, SliceState>()

/** The backend's module, checked once, and ids taken from its own counter, so no tensor it makes later can get one of them. */
function sliceState(backend: BackendWasm): SliceState {
  let state = sliceStates.get(backend)
  if (!state) {
    const mod = backend.wasm as unknown as Partial<WasmModule>
    for (const f of ['_register_tensor', '_dispose_data', '_BatchMatMul'] as const) {
      if (typeof mod[f] !== 'function') throw new Error(`nn/batchMatMul: this tfjs-backend-wasm has no ${f}; the sliced product needs 4.x`)
    }
    const counter = backend as unknown as { dataIdNextNumber: number }
    if (!Number.isInteger(counter.dataIdNextNumber)) throw new Error('nn/batchMatMul: the wasm backend has no tensor id counter')
    const m = mod as WasmModule
    state = { mod: m, a: counter.dataIdNextNumber++, b: counter.dataIdNextNumber++, out: counter.dataIdNextNumber++ }
    sliceStates.set(backend, state)
  }
  return state
}

/** The kernel: out[i] = a[i]·b[i], each slice registered in turn under the kept ids and released after its product. */
function slicedMatMulWasm({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const be = backend as BackendWasm
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
  const [n, m, k] = a.shape
  const p = b.shape[2]
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || b.shape[0] !== n || b.shape[1] !== k) {
    throw new Error(`sliced matMul: [${a.shape}]·[${b.shape}] (${a.dtype}, ${b.dtype}) is not [n, m, k]·[n, k, p] in float32`)
  }
  const ids = sliceState(be)
  const mod = ids.mod
  const out = be.makeOutput([n, m, p], 'float32')
  // the heap offsets and the two shapes' argument block of the engine's kernels (kernels/module.ts)
  const kernels = equiavKernels(be)
  const [aAt, bAt, outAt] = [a, b, out].map(kernels.offset)
  const shapes = kernels.dims([1, m, k, 1, k, p])
  for (let i = 0; i < n; i++) {
    mod._register_tensor(ids.a, m * k, aAt + i * m * k * 4)
    mod._register_tensor(ids.b, k * p, bAt + i * k * p * 4)
    mod._register_tensor(ids.out, m * p, outAt + i * m * p * 4)
    try {
      mod._BatchMatMul(ids.a, shapes, 3, ids.b, shapes + 12, 3, 0, 0, ids.out)
    } finally {
      mod._dispose_data(ids.a)
      mod._dispose_data(ids.b)
      mod._dispose_data(ids.out)
    }
  }
  return out
}

/** The sliced product's kernel on wasm (installed with the engine's others by engine/wasm-kernels.ts). */
export const slicedMatMulKernel: tf.KernelConfig = { kernelName: SLICED_MAT_MUL, backendName: 'wasm', kernelFunc: slicedMatMulWasm as tf.KernelFunc }

function slicedProducts(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.engine().runKernel(SLICED_MAT_MUL, { a, b }, {}) as tf.Tensor3D
}

const swapLast = (x: tf.Tensor3D): tf.Tensor3D => tf.transpose(x, [0, 2, 1])

const slicedMatMul = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc]
  save([a, b])
  return {
    value: slicedProducts(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D]
      const dc = dy as tf.Tensor3D
      return [tf.tidy(() => slicedProducts(dc, swapLast(sb))), tf.tidy(() => slicedProducts(swapLast(sa), dc))]
    }
  }
})

/** a·b over the last two axes; a [..., m, k], b [..., k, p] with the same leading axes. */
export function batchMatMul<T extends tf.Tensor>(a: T, b: T): T {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b) as T
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2)
    const [m, k] = a.shape.slice(-2)
    const p = b.shape[b.rank - 1]
    const a3 = a.reshape<tf.Tensor3D>([-1, m, k])
    const b3 = b.reshape<tf.Tensor3D>([-1, k, p])
    return slicedMatMul(a3, b3).reshape([...lead, m, p]) as T
  })
}
