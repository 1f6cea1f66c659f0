/**
 * The engine's own WebAssembly kernels (equiav-kernels.c, compiled by scripts/build-kernels.mjs), one
 * instance per wasm backend, sharing that backend's memory: a kernel reads and writes tensors where the
 * backend keeps them, given their byte offsets.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs'
import { EQUIAV_KERNELS_WASM } from './equiav-kernels.wasm'

/** The exports of equiav-kernels.c; pointers are byte offsets in the backend's heap. */
export interface KernelExports {
  transpose(x: number, y: number, rank: number, dims: number): void
  column_sums(x: number, out: number, rows: number, cols: number): void
  layer_norm(x: number, weight: number, bias: number, eps: number, y: number, xHat: number, invStd: number, rows: number, dim: number): void
  layer_norm_grad(dy: number, xHat: number, invStd: number, weight: number, dx: number, dWeight: number, dBias: number, rows: number, dim: number): void
  gelu_from_erf(x: number, erf: number, cdf: number, y: number, n: number): void
  gelu_density_exponent(x: number, out: number, n: number): void
  gelu_grad(dy: number, x: number, cdf: number, e: number, c: number, dx: number, n: number): void
  softmax_grad(dy: number, y: number, dx: number, rows: number, n: number): void
  sum_of_squares(x: number, n: number, sum: number): number
  adamw(p: number, m: number, v: number, g: number, n: number, b1: number, b2: number, c1: number, c2: number, rootBc2: number, eps: number, decay: number, rate: number, scale: number, clip: number): void
  finite_sum_of_squares(x: number, n: number, sum: number, nonFinite: number): number
}

/** The int32 arguments a kernel call may pass in `dims` (a transpose of rank r takes 4r). */
const DIMS_INTS = 64

export interface EquiavKernels {
  run: KernelExports
  /** the byte offset of tensor `t` in the heap */
  offset(t: tf.TensorInfo): number
  /** writes `values` to the argument block, which must also leave `scratch` int32 free after them, and returns its byte offset */
  dims(values: readonly number[], scratch?: number): number
}

interface BackendModule {
  asm?: { memory?: WebAssembly.Memory }
  _malloc?(bytes: number): number
  HEAP32: Int32Array
}

let compiled: WebAssembly.Module | undefined
const instances = new WeakMap<BackendWasm, EquiavKernels>()

function instantiate(memory: WebAssembly.Memory): KernelExports {
  compiled ??= new WebAssembly.Module(Buffer.from(EQUIAV_KERNELS_WASM, 'base64'))
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as KernelExports
}

/** The kernels on a memory of their own of at least `bytes` (for work on host arrays, whatever the backend). */
export function kernelsWithMemory(bytes: number): { run: KernelExports; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: Math.max(2, Math.ceil(bytes / 65536)) })
  return { run: instantiate(memory), memory }
}

/** The kernels on `backend`'s heap (instantiated on first use). */
export function equiavKernels(backend: BackendWasm): EquiavKernels {
  let kernels = instances.get(backend)
  if (kernels) return kernels
  const mod = backend.wasm as unknown as BackendModule
  const memory = mod.asm?.memory
  if (!(memory instanceof WebAssembly.Memory) || typeof mod._malloc !== 'function') {
    throw new Error('engine kernels: this tfjs-backend-wasm exposes no memory or malloc; the engine needs 4.x')
  }
  const run = instantiate(memory)
  const block = mod._malloc(DIMS_INTS * 4)
  kernels = {
    run,
    offset: (t) => backend.dataIdMap.get(t.dataId)!.memoryOffset,
    dims: (values, scratch = 0) => {
      if (values.length + scratch > DIMS_INTS) throw new Error(`engine kernels: ${values.length + scratch} int32 arguments, at most ${DIMS_INTS}`)
      mod.HEAP32.set(values, block >> 2) // HEAP32 is the backend's current view (it replaces it when the heap grows)
      return block
    }
  }
  instances.set(backend, kernels)
  return kernels
}

/** What a heap kernel's `run` gets: the exports, and the byte offsets of its inputs (in the order named) and outputs. */
export interface HeapCall {
  run: KernelExports
  inputs: number[]
  outputs: number[]
  /** the inputs' shapes */
  shapes: number[][]
  attrs: tf.NamedAttrMap
}

/**
 * A wasm kernel of equiav-kernels.c: float32 inputs named in order, outputs of the shapes `outShapes` gives,
 * made by the backend and filled by `run`. One output is returned as a tensor, several as a list.
 */
export function heapKernel(
  kernelName: string,
  inputNames: readonly string[],
  outShapes: (shapes: number[][], attrs: tf.NamedAttrMap) => number[][],
  run: (call: HeapCall) => void
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as BackendWasm
      const infos = inputNames.map((name) => {
        const t = inputs[name]
        if (!t || t.dtype !== 'float32') throw new Error(`${kernelName}: input ${name} is ${t ? t.dtype : 'missing'}, float32 expected`)
        return t
      })
      const shapes = infos.map((t) => t.shape)
      const outs = outShapes(shapes, attrs ?? {}).map((shape) => be.makeOutput(shape, 'float32'))
      const kernels = equiavKernels(be)
      run({ run: kernels.run, inputs: infos.map(kernels.offset), outputs: outs.map(kernels.offset), shapes, attrs: attrs ?? {} })
      return outs.length === 1 ? outs[0] : outs
    }
  }
}
