/**
 * PCA to k dimensions for the embedding map: covariance of the centred rows, leading eigenvectors by
 * power iteration with deflation (d is small: the embedding width), signs fixed so the largest-magnitude
 * loading of each axis is positive — the same data always gives the same picture.
 */
export function pca(x: Float32Array, d: number, k = 2): { coords: Float32Array; axes: Float64Array[]; variance: number[] } {
  const n = x.length / d
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n
  const cov = new Float64Array(d * d)
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = x[i * d + a] - mean[a]
      for (let b = a; b < d; b++) cov[a * d + b] += (xa * (x[i * d + b] - mean[b])) / Math.max(1, n - 1)
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]
  const axes: Float64Array[] = []
  const variance: number[] = []
  for (let c = 0; c < k; c++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 + j / d) // deterministic start, not orthogonal to any axis by symmetry
    let lambda = 0
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d)
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a] += cov[a * d + b] * v[b]
      const norm = Math.hypot(...w)
      if (norm === 0) break
      const next = w.map((t) => t / norm)
      const delta = next.reduce((s, t, j) => s + Math.abs(t - v[j]), 0)
      v = next
      lambda = norm
      if (delta < 1e-12) break
    }
    const big = v.reduce((best, t, j) => (Math.abs(t) > Math.abs(v[best]) ? j : best), 0)
    if (v[big] < 0) v = v.map((t) => -t)
    axes.push(v)
    variance.push(lambda)
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] -= lambda * v[a] * v[b] // deflate
  }
  const coords = new Float32Array(n * k)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0
      for (let j = 0; j < d; j++) s += (x[i * d + j] - mean[j]) * axes[c][j]
      coords[i * k + c] = s
    }
  }
  return { coords, axes, variance }
}
