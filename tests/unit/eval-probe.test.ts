import { beforeAll, describe, expect, it } from 'vitest'
import { linearProbe } from '../../src/main/engine/eval/probe'
import { Rng } from '../../src/main/engine/rng'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

function cloud(n: number, dim: number, classes: number, seed: number, separable: boolean): { x: Float32Array; y: number[] } {
  const rng = new Rng(seed)
  const y = Array.from({ length: n }, (_, i) => i % classes)
  const x = new Float32Array(n * dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) x[i * dim + j] = rng.normal() + (separable && j === y[i] ? 4 : 0)
  return { x, y }
}

describe('linearProbe', () => {
  it('separates linearly separable classes and stays near chance on noise', () => {
    expect(linearProbe(cloud(200, 8, 4, 1, true), cloud(100, 8, 4, 2, true), 8, 4, { epochs: 150 })).toBeGreaterThan(95)
    const noise = linearProbe(cloud(200, 8, 4, 3, false), cloud(400, 8, 4, 4, false), 8, 4, { epochs: 150 })
    expect(noise).toBeGreaterThan(10)
    expect(noise).toBeLessThan(40) // chance is 25%
  })
})
