/**
 * Host access to float32 tensors without a fresh buffer per read. `dataSync` copies a tensor into a new
 * ArrayBuffer each time; the attention products and the patch cut once read hundreds of MB a `tiny` step that way on
 * wasm (249 MB in 3,969 reads at batch 16), and the garbage collector's work on those buffers ran on every
 * core beside the engine workers. Here a read is a view of the wasm heap, and host work writes into scratch
 * buffers reused from call to call.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'

/**
 * The values of float32 `x` as a view of the wasm backend's heap (no copy), or `dataSync` elsewhere. The view
 * is only valid until the next tensor is made (growing the heap detaches it): read it before making one.
 */
export function hostView(x: tf.Tensor): Float32Array {
  if (x.dtype !== 'float32') throw new Error(`hostView: ${x.dtype} tensor, float32 expected`)
  if (tf.getBackend() !== 'wasm') return x.dataSync() as Float32Array
  return (tf.backend() as BackendWasm).typedArrayFromHeap(x) as Float32Array
}

/**
 * Reusable host buffers of this thread, one per named use; a use's contents last until its next `scratch`
 * call. Each keeps the size of the largest request up to KEEP_AT_MOST floats (for `tiny` at batch 16: a few
 * MB each); a larger request gets a buffer of its own, so a `base` batch does not hold hundreds of MB.
 */
const buffers = new Map<string, Float32Array>()
const KEEP_AT_MOST = 16 * 1024 * 1024

/** A buffer of `length` floats for `use` (its old contents are not kept when it grows). */
export function scratch(use: string, length: number): Float32Array {
  if (length > KEEP_AT_MOST) return new Float32Array(length)
  let buffer = buffers.get(use)
  if (!buffer || buffer.length < length) buffers.set(use, (buffer = new Float32Array(length)))
  return buffer.subarray(0, length)
}
