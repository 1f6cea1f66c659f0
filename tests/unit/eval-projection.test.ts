import { describe, expect, it } from 'vitest'
import { pca } from '../../src/main/engine/eval/projection'
import { Rng } from '../../src/main/engine/rng'

describe('pca', () => {
  it('finds the axes of a known anisotropic cloud, with their variances', () => {
    // x = 3·u·e1' + 1·v·e2' + noise, with e1', e2' a rotation of the first two axes in 4-D
    const rng = new Rng(1)
    const n = 4000
    const d = 4
    const c = Math.cos(0.5)
    const s = Math.sin(0.5)
    const x = new Float32Array(n * d)
    for (let i = 0; i < n; i++) {
      const u = 3 * rng.normal()
      const v = rng.normal()
      x[i * d] = c * u - s * v + 5
      x[i * d + 1] = s * u + c * v - 2
      x[i * d + 2] = 0.1 * rng.normal()
      x[i * d + 3] = 0.1 * rng.normal()
    }
    const { axes, variance, coords } = pca(x, d, 2)
    expect(Math.abs(axes[0][0] * c + axes[0][1] * s)).toBeCloseTo(1, 2) // first axis ∥ e1'
    expect(Math.abs(-axes[1][0] * s + axes[1][1] * c)).toBeCloseTo(1, 2) // second axis ∥ e2'
    expect(variance[0]).toBeCloseTo(9, 0)
    expect(variance[1]).toBeCloseTo(1, 0)
    const meanOfFirst = coords.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0) / n
    expect(Math.abs(meanOfFirst)).toBeLessThan(1e-3) // centred
    expect(pca(x, d, 2).coords).toEqual(coords) // deterministic, signs included
  })
})
