/**
 * The rank of each clip's true pair in the other modality, for every clip of a split: row i of `queries`
 * against the whole gallery, 1 + the number of gallery rows strictly more similar than row i (the ranks
 * the stored retrieval report's R@K and median rank are computed from). One pass of dot products per query.
 */
import { queryTopK } from './query-top-k'

export function truePairRanks(queries: Float32Array, gallery: Float32Array, d: number, onProgress?: (done: number, total: number) => void): Int32Array {
  if (queries.length !== gallery.length) throw new Error(`queries (${queries.length} values) and gallery (${gallery.length}) differ in size`)
  const n = queries.length / d
  const ranks = new Int32Array(n)
  const every = Math.max(1, Math.floor(n / 100))
  for (let i = 0; i < n; i++) {
    ranks[i] = queryTopK(gallery, d, queries.subarray(i * d, (i + 1) * d), 0, i).rank
    if ((i + 1) % every === 0 || i + 1 === n) onProgress?.(i + 1, n)
  }
  return ranks
}
