/**
 * Exact top-k of one query against a gallery of L2-normalised rows, as eval/retrieval.ts ranks a whole
 * split but for a single query, without tensors (the API process has no engine backend): one pass of dot
 * products over the gallery, a sorted buffer of the k best. Ties keep the lower gallery index first, and
 * the rank of the true match is 1 + the number of items strictly more similar (as rankRetrieval counts it).
 */
export interface QueryTopK {
  /** gallery indices, most similar first */
  indices: Int32Array
  /** their cosine similarities */
  scores: Float32Array
  /** 1-based rank of gallery item `truth` */
  rank: number
}

/** Dot product of row `row` of `x` [n, d] with `q` [d]. */
function dotRow(x: Float32Array, row: number, q: Float32Array, d: number): number {
  let s = 0
  const base = row * d
  for (let j = 0; j < d; j++) s += x[base + j] * q[j]
  return s
}

export function queryTopK(gallery: Float32Array, d: number, query: Float32Array, k: number, truth: number): QueryTopK {
  if (d <= 0 || gallery.length % d !== 0) throw new Error(`gallery of ${gallery.length} values is not a whole number of rows of ${d}`)
  if (query.length !== d) throw new Error(`query has ${query.length} values, expected ${d}`)
  const n = gallery.length / d
  if (!(truth >= 0 && truth < n)) throw new Error(`true match ${truth} is outside the gallery of ${n}`)
  const kk = Math.max(0, Math.min(k, n))
  const scores = new Float32Array(n)
  for (let i = 0; i < n; i++) scores[i] = dotRow(gallery, i, query, d)
  const truthScore = scores[truth]
  let above = 0
  const best = new Int32Array(kk)
  let filled = 0
  for (let i = 0; i < n; i++) {
    const s = scores[i]
    if (s > truthScore) above++
    // strictly better than the current k-th: an equal score keeps the earlier index
    if (filled === kk && (kk === 0 || s <= scores[best[kk - 1]])) continue
    let pos = filled < kk ? filled++ : kk - 1
    while (pos > 0 && scores[best[pos - 1]] < s) {
      best[pos] = best[pos - 1]
      pos--
    }
    best[pos] = i
  }
  return { indices: best, scores: Float32Array.from(best, (i) => scores[i]), rank: above + 1 }
}
