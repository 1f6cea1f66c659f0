/**
 * The embedding map's 2-D coordinates for a chosen space and method, as the four columns the workbench
 * draws (ax, ay: audio points; vx, vy: visual points). Spaces:
 * - `audio` / `visual`: one modality's embeddings alone (the other's columns are NaN: not drawn);
 * - `joint`: both modalities in one space, each modality's mean subtracted first, so the first axis is not
 *   spent on the constant gap between the two clouds (the modality gap) but on how clips differ.
 * Methods: PCA (projection.ts), or seeded UMAP (umap.ts). Pure numerics.
 */
import { pca } from './projection'
import { umap2d } from './umap'

export const MAP_SPACES = ['joint', 'audio', 'visual'] as const
export type MapSpace = (typeof MAP_SPACES)[number]

export interface MapProjection {
  method: 'pca' | 'umap'
  space: MapSpace
  /** UMAP only */
  nNeighbors: number
  minDist: number
  seed: number
}

export interface MapColumns {
  ax: Float32Array
  ay: Float32Array
  vx: Float32Array
  vy: Float32Array
}

/** [n, d] rows with their column mean subtracted */
export function centred(x: Float32Array, d: number): Float32Array {
  const n = x.length / d
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n
  return x.map((v, k) => v - mean[k % d])
}

/** audio rows then visual rows, each modality centred on its own mean: [2n, d] */
export function jointCentredPerModality(audio: Float32Array, visual: Float32Array, d: number): Float32Array {
  const out = new Float32Array(audio.length + visual.length)
  out.set(centred(audio, d))
  out.set(centred(visual, d), audio.length)
  return out
}

/** [m, 2] coordinates → two columns */
function split2(coords: Float32Array, from: number, count: number): [Float32Array, Float32Array] {
  const x = new Float32Array(count)
  const y = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    x[i] = coords[2 * (from + i)]
    y[i] = coords[2 * (from + i) + 1]
  }
  return [x, y]
}

/** Audio and visual embeddings [n, d] each → the map's columns for the chosen space and method. */
export function projectMap(audio: Float32Array, visual: Float32Array, d: number, p: MapProjection, onProgress?: (done: number, total: number) => void): MapColumns {
  if (audio.length !== visual.length || d <= 0 || audio.length % d !== 0) throw new Error(`audio (${audio.length}) and visual (${visual.length}) embeddings are not [n, ${d}] each`)
  const n = audio.length / d
  const rows = p.space === 'joint' ? jointCentredPerModality(audio, visual, d) : p.space === 'audio' ? audio : visual
  const coords = p.method === 'umap' ? umap2d(rows, d, { seed: p.seed, nNeighbors: p.nNeighbors, minDist: p.minDist, onProgress }) : pca(rows, d, 2).coords
  const none = (): Float32Array => new Float32Array(n).fill(NaN)
  if (p.space === 'joint') {
    const [ax, ay] = split2(coords, 0, n)
    const [vx, vy] = split2(coords, n, n)
    return { ax, ay, vx, vy }
  }
  const [x, y] = split2(coords, 0, n)
  return p.space === 'audio' ? { ax: x, ay: y, vx: none(), vy: none() } : { ax: none(), ay: none(), vx: x, vy: y }
}
