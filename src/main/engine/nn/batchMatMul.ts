/**
 * Batched matrix product [n, m, k]·[n, k, p] → [n, m, p], the attention score and mixing products.
 * On wasm a batched matMul misses XNNPACK's fast path that a plain 2-D one takes, and the backend's Slice
 * costs more than the products; so there the batch is cut into n 2-D products in JavaScript (`npm run bench`,
 * `attention_products_ms`). The gradient is dA = dC·Bᵀ and dB = Aᵀ·dC, computed the same way with the
 * transposes made explicit. Other backends use tf.matMul.
 */
import * as tf from '@tensorflow/tfjs'
import { hostCopy, hostView, scratch } from './host'

/**
 * n plain 2-D products of the row-major slices of a [n, m, k] and b [n, k, p]. The operands and the
 * products pass through reused host buffers (nn/host), not a new buffer per read.
 */
function slicedProducts(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [n, m, k] = a.shape
  const p = b.shape[2]
  const aData = hostCopy(a, 'batchMatMul a')
  const bData = hostCopy(b, 'batchMatMul b')
  const out = scratch('batchMatMul out', n * m * p)
  for (let i = 0; i < n; i++) {
    const product = tf.tidy(() =>
      tf.matMul(tf.tensor2d(aData.subarray(i * m * k, (i + 1) * m * k), [m, k]), tf.tensor2d(bData.subarray(i * k * p, (i + 1) * k * p), [k, p]))
    )
    out.set(hostView(product), i * m * p)
    product.dispose()
  }
  return tf.tensor3d(out, [n, m, p])
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
