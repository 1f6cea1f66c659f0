/**
 * Axis permutation done as one index walk in JavaScript. On the rank-6 permutation that cuts patches the
 * wasm backend's Transpose is about 7× slower than this walk (`npm run bench`, `patchify_audio_ms`: one
 * EquiAV tiny audio batch). The gradient is the inverse permutation, done the same way. Only on wasm: the
 * walk reads the tensor to the host, which elsewhere (a GPU) would cost more than the backend's Transpose.
 */
import * as tf from '@tensorflow/tfjs'
import { hostView, scratch } from './host'

/** out[i₀, …] = x[…] with out's axis k being x's axis perm[k]; x row-major with `shape`; out a new array unless given. */
export function permuteArray(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array = new Float32Array(x.length)): Float32Array {
  const rank = shape.length
  const strides = new Array<number>(rank)
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    strides[k] = s
    s *= shape[k]
  }
  const outShape = perm.map((p) => shape[p])
  // source stride of each output axis; the innermost output axis is walked in a tight loop
  const step = perm.map((p) => strides[p])
  if (out.length !== x.length) throw new Error(`permuteArray: ${out.length} values out for ${x.length} in`)
  if (x.length === 0) return out
  const inner = outShape[rank - 1]
  const innerStep = step[rank - 1]
  const index = new Array<number>(rank - 1).fill(0)
  let src = 0
  for (let o = 0; o < out.length; o += inner) {
    for (let i = 0, s = src; i < inner; i++, s += innerStep) out[o + i] = x[s]
    // odometer over the outer output axes
    for (let k = rank - 2; k >= 0; k--) {
      index[k]++
      src += step[k]
      if (index[k] < outShape[k]) break
      src -= step[k] * outShape[k]
      index[k] = 0
    }
  }
  return out
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length)
  perm.forEach((p, k) => (inv[p] = k))
  return inv
}

/** The walk reads x's values where they lie and writes a reused host buffer (nn/host), which the new tensor copies. */
function permuteTensor(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
  return tf.tensor(permuteArray(hostView(x), x.shape, perm, scratch('permute', x.size)), perm.map((p) => x.shape[p]), 'float32')
}

/** tf.transpose(x, perm) for float32 x, with its gradient; walked in JavaScript on wasm. */
export function permute<T extends tf.Tensor>(x: T, perm: readonly number[]): T {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${x.rank} axes`)
  }
  if (tf.getBackend() !== 'wasm') return tf.transpose(x, [...perm])
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor
    return { value: permuteTensor(input, perm), gradFunc: (dy: tf.Tensor) => permuteTensor(dy, inverse(perm)) }
  })
  return op(x) as T
}
