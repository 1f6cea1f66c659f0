/**
 * Exact cross-modal retrieval without an N×N matrix in memory: similarities are computed a block of
 * queries at a time (one 2-D matMul per block), and for each query we keep only the rank of its true
 * match and its top-k gallery items.
 * Rank = 1 + the number of gallery items strictly more similar than the true match (ties favour the truth,
 * as a stable sort would when the truth comes first).
 */
import * as tf from '@tensorflow/tfjs'

export interface RetrievalResult {
  /** 1-based rank of the true match for each query */
  ranks: Int32Array
  /** [queries, k] gallery indices, most similar first */
  topK: Int32Array
  k: number
}

/** rows of x [n, d] scaled to unit length (zero rows stay zero) */
export function l2NormalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i += d) {
    let s = 0
    for (let j = 0; j < d; j++) s += x[i + j] * x[i + j]
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0
    for (let j = 0; j < d; j++) out[i + j] = x[i + j] * inv
  }
  return out
}

/** Query i's true match is gallery item i. Both are [n, d], already L2-normalised. */
export function rankRetrieval(queries: Float32Array, gallery: Float32Array, d: number, k = 10, block = 1024): RetrievalResult {
  const n = queries.length / d
  const kk = Math.min(k, n)
  const ranks = new Int32Array(n)
  const topK = new Int32Array(n * kk)
  const galleryT = tf.tidy(() => tf.transpose(tf.tensor2d(gallery, [n, d]))) // [d, n]
  try {
    for (let start = 0; start < n; start += block) {
      const rows = Math.min(block, n - start)
      const sims = tf.tidy(() => tf.matMul(tf.tensor2d(queries.subarray(start * d, (start + rows) * d), [rows, d]), galleryT))
      const s = sims.dataSync() as Float32Array // [rows, n]
      sims.dispose()
      for (let r = 0; r < rows; r++) {
        const q = start + r
        const row = s.subarray(r * n, (r + 1) * n)
        const truth = row[q]
        let above = 0
        for (let j = 0; j < n; j++) if (row[j] > truth) above++
        ranks[q] = above + 1
        // partial selection of the k best: fine for small k
        const best: number[] = []
        for (let j = 0; j < n; j++) {
          if (best.length < kk) {
            best.push(j)
            best.sort((a, b) => row[b] - row[a])
          } else if (row[j] > row[best[kk - 1]]) {
            best[kk - 1] = j
            best.sort((a, b) => row[b] - row[a])
          }
        }
        topK.set(best, q * kk)
      }
    }
  } finally {
    galleryT.dispose()
  }
  return { ranks, topK, k: kk }
}
