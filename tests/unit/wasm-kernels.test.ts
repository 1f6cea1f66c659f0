/**
 * The wasm kernels the engine replaces (src/main/engine/wasm-kernels.ts): the slice copied inside the heap
 * against a plain index walk, through the engine and with its gradient; the shared Identity's buffer.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { copySlice } from '../../src/main/engine/wasm-kernels'
import { useTestBackend } from '../helpers/tf'

/** out[i] = x[begin + i] by walking every output index (the reference). */
function walkSlice(x: Float32Array, shape: number[], begin: number[], size: number[]): Float32Array {
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1))
  const out = new Float32Array(size.reduce((a, b) => a * b, 1))
  const index = size.map(() => 0)
  for (let o = 0; o < out.length; o++) {
    out[o] = x[index.reduce((src, i, k) => src + (begin[k] + i) * strides[k], 0)]
    for (let k = size.length - 1; k >= 0; k--) {
      if (++index[k] < size[k]) break
      index[k] = 0
    }
  }
  return out
}

/** A shape of rank 1–5 and a slice of it (begin, size), some axes taken whole, some empty. */
const sliceCase = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map((n) => fc.integer({ min: 0, max: n }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: n - b })))))
    )
  )
  .map(([shape, axes]) => ({ shape, begin: axes.map(([b]) => b), size: axes.map(([, s]) => s) }))

describe('wasm kernels', () => {
  beforeAll(async () => {
    await useTestBackend()
  })

  it('copySlice equals an index walk for any slice of ranks 1–5 (whole axes, empty axes, single elements)', () => {
    fc.assert(
      fc.property(sliceCase, ({ shape, begin, size }) => {
        const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5)
        const out = new Float32Array(size.reduce((a, b) => a * b, 1))
        copySlice(x, shape, begin, size, out)
        expect(Array.from(out)).toEqual(Array.from(walkSlice(x, shape, begin, size)))
      }),
      { numRuns: 300 }
    )
  })

  it('tf.slice on the backend gives the walk, for contiguous row blocks and strided column blocks, and its gradient pads dy back', () => {
    const shape = [4, 3, 6]
    const x = tf.tensor(Float32Array.from({ length: 72 }, (_, i) => i), shape)
    for (const [begin, size] of [
      [[1, 0, 0], [2, 3, 6]], // whole rows: one run
      [[0, 1, 2], [4, 2, 3]], // strided
      [[3, 2, 5], [1, 1, 1]]
    ]) {
      const got = tf.slice(x, begin, size)
      expect(got.shape).toEqual(size)
      expect(Array.from(got.dataSync())).toEqual(Array.from(walkSlice(x.dataSync() as Float32Array, shape, begin, size)))
    }
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, [0, 1, 2], [4, 2, 3]), 2)))(x)
    const want = new Float32Array(72)
    for (let a = 0; a < 4; a++) for (let b = 1; b < 3; b++) for (let c = 2; c < 5; c++) want[a * 18 + b * 6 + c] = 2
    expect(Array.from(dx.dataSync())).toEqual(Array.from(want))
    // int32 slices go to the stock kernel
    expect(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4], 'int32'), [1], [2]).dataSync())).toEqual([2, 3])
  })

  it('a clone shares its source buffer on wasm, and outlives the source', () => {
    const x = tf.tensor([1, 2, 3])
    const y = tf.clone(x)
    if (tf.getBackend() === 'wasm') {
      const backend = tf.backend() as BackendWasm
      expect(backend.getMemoryOffset(y.dataId)).toBe(backend.getMemoryOffset(x.dataId))
    }
    x.dispose()
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3])
  })
})
