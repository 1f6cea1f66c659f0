/**
 * The wasm kernels the engine replaces (src/main/engine/wasm-kernels.ts): the slice copied inside the heap
 * against a plain index walk, through the engine and with its gradient; the transpose of equiav-kernels.c
 * against an index walk for any permutation; the shared Identity's buffer; and the committed module against
 * the one its C source compiles to, where its clang is installed.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { collapseAxes, copySlice } from '../../src/main/engine/wasm-kernels'
import { gelu, softmax } from '../../src/main/engine/nn/activations'
import { layerNorm } from '../../src/main/engine/nn/layerNorm'
import { columnSums } from '../../src/main/engine/nn/linear'
import { Rng } from '../../src/main/engine/rng'
import { useTestBackend } from '../helpers/tf'

/** whether this machine has the clang (with wasm-ld and llvm-objdump) the committed kernel module was compiled with */
const hasItsClang = ((): boolean => {
  try {
    const version = execFileSync('clang', ['-dumpversion'], { encoding: 'utf8' }).trim()
    execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' })
    execFileSync(`llvm-objdump-${version.split('.')[0]}`, ['--version'], { stdio: 'ignore' })
    return readFileSync('src/main/engine/kernels/equiav-kernels.wasm.ts', 'utf8').includes(`with clang ${version}:`)
  } catch {
    return false
  }
})()

/** out[o] = x[source(index)] for each index of `outShape`, in row-major order: the plain walk the references below share. */
function walk(x: Float32Array, outShape: number[], source: (index: number[]) => number): Float32Array {
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1))
  const index = outShape.map(() => 0)
  for (let o = 0; o < out.length; o++) {
    out[o] = x[source(index)]
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break
      index[k] = 0
    }
  }
  return out
}

const stridesOf = (shape: number[]): number[] => shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1))

/** y[i₀, …] = x[…] with y's axis k being x's axis perm[k], by walking every output index (the reference). */
function walkTranspose(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const strides = stridesOf(shape)
  return walk(
    x,
    perm.map((a) => shape[a]),
    (index) => index.reduce((src, i, k) => src + i * strides[perm[k]], 0)
  )
}

/** A shape of rank 1–6 (axes of 1 to 9, so 4 × 4 blocks have remainders) and a permutation of its axes. */
const transposeCase = fc
  .array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length })))

/** out[i] = x[begin + i] by walking every output index (the reference). */
function walkSlice(x: Float32Array, shape: number[], begin: number[], size: number[]): Float32Array {
  const strides = stridesOf(shape)
  return walk(x, size, (index) => index.reduce((src, i, k) => src + (begin[k] + i) * strides[k], 0))
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

function normal(shape: number[], seed: number, scale = 1, shift = 0): tf.Tensor {
  const rng = new Rng(seed)
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale + shift), shape)
}

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer))

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

  it('tf.transpose equals an index walk for any permutation of ranks 1–6, and its gradient is the inverse permutation', () => {
    fc.assert(
      fc.property(transposeCase, ([shape, perm]) => {
        const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.25)
        const got = tf.tidy(() => tf.transpose(tf.tensor(values, shape), perm).dataSync())
        expect(Array.from(got)).toEqual(Array.from(walkTranspose(values, shape, perm)))
      }),
      { numRuns: 300 }
    )
    // sizes past the kernel's 32 × 32 cache blocks, with remainders, and the attention's head split
    for (const [shape, perm] of [
      [[70, 45], [1, 0]],
      [[3, 37, 66], [0, 2, 1]],
      [[2, 19, 4, 8], [0, 2, 1, 3]],
      [[2, 19, 4, 8], [0, 2, 3, 1]],
      [[2, 3, 5, 16, 4, 16], [0, 2, 4, 1, 3, 5]]
    ]) {
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random())
      const got = tf.tidy(() => tf.transpose(tf.tensor(values, shape), perm).dataSync())
      expect(Array.from(got)).toEqual(Array.from(walkTranspose(values, shape, perm)))
    }
    const x = tf.tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4])
    const w = tf.tensor(Float32Array.from({ length: 24 }, (_, i) => i * i), [4, 2, 3])
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [2, 0, 1]), w)))(x)
    expect(Array.from(dx.dataSync())).toEqual(Array.from(walkTranspose(w.dataSync() as Float32Array, [4, 2, 3], [1, 2, 0])))
    // int32 goes to the stock kernel
    expect(Array.from(tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32')).dataSync())).toEqual([1, 4, 2, 5, 3, 6])
  })

  it('the fused kernels give the composed stock ops\' values bit for bit: column sums, LayerNorm, GELU and softmax, each way', () => {
    const x = normal([3, 41, 132], 1, 2, 0.5) // rows and a width that leave SIMD remainders
    const dy = normal([3, 41, 132], 2)
    const w = normal([132], 3, 0.3, 1)
    const b = normal([132], 4, 0.1)
    // column sums: the backend's product 1ᵀ·x
    const rows = x.reshape([-1, 132]) as tf.Tensor2D
    expect(bits(columnSums(rows))).toEqual(bits(tf.matMul(tf.ones([1, 123]), rows).reshape([132])))
    // LayerNorm: tf.moments, rsqrt and the affine map; backward as nn/layerNorm's formula with stock kernels
    const eps = 1e-6
    const { mean, variance } = tf.moments(x, -1, true)
    const inv = tf.rsqrt(tf.add(variance, tf.scalar(eps)))
    const xHat = tf.mul(tf.sub(x, mean), inv)
    expect(bits(layerNorm(x, w, b, eps))).toEqual(bits(tf.add(tf.mul(xHat, w), b)))
    const g = tf.mul(dy, w)
    const dxWant = tf.mul(tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xHat, tf.mean(tf.mul(g, xHat), -1, true))), inv)
    const ones = tf.ones([1, 123])
    const dwWant = tf.matMul(ones, tf.mul(dy, xHat).reshape([-1, 132])).reshape([132])
    const dbWant = tf.matMul(ones, dy.reshape([-1, 132])).reshape([132])
    const [dx, dw, db] = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, c, d, eps), dy)))([x, w, b])
    expect(bits(dx)).toEqual(bits(dxWant))
    expect(bits(dw)).toEqual(bits(dwWant))
    expect(bits(db)).toEqual(bits(dbWant))
    // GELU: x·(erf(x/√2) + 1)·0.5 and dy·(Φ + x·exp(−x²/2)/√(2π))
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5)
    expect(bits(gelu(x))).toEqual(bits(tf.mul(x, cdf)))
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI))
    const [dGelu] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))([x])
    expect(bits(dGelu)).toEqual(bits(tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)))))
    // softmax: the stock op's values and gradient
    expect(bits(softmax(x))).toEqual(bits(tf.softmax(x)))
    const [dSoft] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(softmax(a), dy)))([x])
    const [dStock] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), dy)))([x])
    expect(bits(dSoft)).toEqual(bits(dStock))
  })

  it('collapseAxes drops axes of 1 and merges the axes that stay side by side', () => {
    expect(collapseAxes([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] })
    expect(collapseAxes([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] })
    expect(collapseAxes([1, 6, 1, 7], [3, 2, 1, 0])).toEqual({ shape: [6, 7], perm: [1, 0] })
    expect(collapseAxes([2, 3, 4, 5], [1, 0, 3, 2])).toEqual({ shape: [2, 3, 4, 5], perm: [1, 0, 3, 2] })
    expect(collapseAxes([1, 1], [1, 0])).toEqual({ shape: [1], perm: [0] })
    expect(collapseAxes([], [])).toEqual({ shape: [1], perm: [0] })
  })

  it.skipIf(!hasItsClang)('the committed kernel module is the one equiav-kernels.c compiles to', () => {
    expect(() => execFileSync('node', ['scripts/build-kernels.mjs', '--check'], { stdio: 'pipe' })).not.toThrow()
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
