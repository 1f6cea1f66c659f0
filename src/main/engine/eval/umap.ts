/**
 * UMAP to 2-D for the embedding map (umap-js), driven by our seeded generator so the same embeddings and
 * seed always give the same picture. Neighbourhood size is capped below the number of points. The layout
 * is optimised epoch by epoch, so a caller can report progress.
 */
import { UMAP } from 'umap-js'
import { Rng } from '../rng'

export interface UmapOptions {
  seed?: number
  /** default 15 (umap-learn's), at most n − 1 */
  nNeighbors?: number
  minDist?: number
  /** epochs done of the total, after the neighbour graph and after each epoch */
  onProgress?: (done: number, total: number) => void
}

/** [n, d] rows → [n, 2] coordinates */
export function umap2d(x: Float32Array, d: number, o: UmapOptions = {}): Float32Array {
  const n = x.length / d
  if (!Number.isInteger(n) || n < 3) throw new Error(`UMAP needs at least 3 points of width ${d}, got ${x.length} values`)
  const rng = new Rng(o.seed ?? 0)
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)))
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(o.nNeighbors ?? 15, n - 1), minDist: o.minDist ?? 0.1, random: () => rng.uniform() })
  const epochs = umap.initializeFit(rows)
  o.onProgress?.(0, epochs)
  for (let e = 0; e < epochs; e++) {
    umap.step()
    o.onProgress?.(e + 1, epochs)
  }
  return Float32Array.from(umap.getEmbedding().flat())
}
