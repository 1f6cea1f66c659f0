/**
 * Patch embedding without conv2d (wasm has no Conv2DBackpropFilter): cut p×p patches by reshape and a
 * rank-6 transpose (on wasm the engine's own kernel, engine/wasm-kernels.ts) and apply the kernel
 * [C·p·p, D] as one matmul. Each patch vector is ordered (c, i, j) with i the
 * patch-row offset and j the patch-column offset, i.e. PyTorch's conv weight flattening.
 */
import * as tf from '@tensorflow/tfjs'

/**
 * Audio a [B, C, T, F] (time-major, as the dataset yields it). The official model transposes to
 * [B, C, F, T] before its conv, so patch rows run over frequency and columns over time:
 * → [B, (F/p)·(T/p), C·p·p], token = f·(T/p) + t, patch offset i along frequency, j along time.
 */
export function patchifyAudio(a: tf.Tensor4D, p: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, c, t, f] = a.shape
    const grid = a.reshape([b, c, t / p, p, f / p, p]) // [B, C, Tp, j, Fp, i]
    return tf.transpose(grid, [0, 4, 2, 1, 5, 3]).reshape([b, (f / p) * (t / p), c * p * p])
  })
}

/** Frame v [B, C, H, W] → [B, (H/p)·(W/p), C·p·p], token = row·(W/p) + col. */
export function patchifyVisual(v: tf.Tensor4D, p: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, c, h, w] = v.shape
    const grid = v.reshape([b, c, h / p, p, w / p, p]) // [B, C, Hp, i, Wp, j]
    return tf.transpose(grid, [0, 2, 4, 1, 3, 5]).reshape([b, (h / p) * (w / p), c * p * p])
  })
}
