import { describe, expect, it } from 'vitest'
import { umap2d } from '../../src/main/engine/eval/umap'
import { Rng } from '../../src/main/engine/rng'

/** two Gaussian blobs in 8-D, 10 units apart along the first axis, σ = 0.3 */
function blobs(perBlob: number): Float32Array {
  const rng = new Rng(7)
  const d = 8
  const x = new Float32Array(2 * perBlob * d)
  for (let i = 0; i < 2 * perBlob; i++) for (let j = 0; j < d; j++) x[i * d + j] = 0.3 * rng.normal() + (j === 0 && i >= perBlob ? 10 : 0)
  return x
}

describe('umap2d', () => {
  it('is deterministic for a seed, and different seeds give different layouts', () => {
    const x = blobs(20)
    const a = umap2d(x, 8, { seed: 1 })
    expect(a).toHaveLength(80)
    expect(umap2d(x, 8, { seed: 1 })).toEqual(a)
    expect(umap2d(x, 8, { seed: 2 })).not.toEqual(a)
  })

  it('keeps two well-separated clusters apart: every point is nearer its own cluster centre', () => {
    const n = 20
    const y = umap2d(blobs(n), 8, { seed: 3 })
    const centre = (from: number): [number, number] => {
      let cx = 0
      let cy = 0
      for (let i = from; i < from + n; i++) {
        cx += y[2 * i] / n
        cy += y[2 * i + 1] / n
      }
      return [cx, cy]
    }
    const centres = [centre(0), centre(n)]
    for (let i = 0; i < 2 * n; i++) {
      const dist = centres.map(([cx, cy]) => Math.hypot(y[2 * i] - cx, y[2 * i + 1] - cy))
      const own = i < n ? 0 : 1
      expect(dist[own]).toBeLessThan(dist[1 - own])
    }
  })

  it('refuses too few points with a clear message', () => {
    expect(() => umap2d(new Float32Array(4), 2)).toThrow(/at least 3 points/)
  })
})
