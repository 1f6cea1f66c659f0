import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/main/engine/rng'

function draws(rng: Rng): number[] {
  return [rng.uniform(), rng.uniform(-3, 5), rng.randint(-7, 9), rng.normal(), ...rng.permutation(6)]
}

describe('augment Rng', () => {
  it('is xoshiro128**: reference outputs from state [1, 2, 3, 4]', () => {
    // first outputs of the reference C implementation (Blackman & Vigna) from s = {1, 2, 3, 4}
    const rng = Rng.fromState([1, 2, 3, 4])
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492])
    expect(rng.getState()).toEqual([1110993931, 286554632, 2431677446, 2165318166])
  })

  it('same seed gives the same sequence; different seeds differ', () => {
    expect(draws(new Rng(42))).toEqual(draws(new Rng(42)))
    expect(draws(new Rng(42))).not.toEqual(draws(new Rng(43)))
    // both 32-bit halves of a large seed matter, and negative seeds are accepted
    expect(new Rng(5).uniform()).not.toBe(new Rng(5 + 2 ** 32).uniform())
    expect(new Rng(-1).uniform()).not.toBe(new Rng(2 ** 32 - 1).uniform())
    expect(() => new Rng(0.5)).toThrow()
  })

  it('state round trip (through JSON) continues the identical sequence', () => {
    const rng = new Rng(2024)
    for (let i = 0; i < 37; i++) rng.normal()
    const saved = JSON.parse(JSON.stringify(rng.getState())) as number[]
    const restored = Rng.fromState(saved)
    const a = Array.from({ length: 50 }, () => draws(rng)).flat()
    const b = Array.from({ length: 50 }, () => draws(restored)).flat()
    expect(b).toEqual(a)
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow()
    expect(() => Rng.fromState([1, 2, 3])).toThrow()
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow()
  })

  it('uniform has the moments of U(0, 1) and stays in [0, 1)', () => {
    const rng = new Rng(1)
    const n = 200_000
    let sum = 0
    let sq = 0
    let min = 1
    let max = 0
    for (let i = 0; i < n; i++) {
      const u = rng.uniform()
      sum += u
      sq += u * u
      min = Math.min(min, u)
      max = Math.max(max, u)
    }
    const mean = sum / n
    // standard error of the mean is √(1/12/n) ≈ 6.5e-4
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.003)
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.002)
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
  })

  it('randint covers [lo, hi) evenly and never hi', () => {
    const rng = new Rng(2)
    const counts = new Map<number, number>()
    const n = 60_000
    for (let i = 0; i < n; i++) {
      const k = rng.randint(-3, 3)
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2])
    // chi-square with 5 degrees of freedom; 20.5 is the 0.999 quantile
    const expected = n / 6
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0)
    expect(chi2).toBeLessThan(20.5)
    expect(() => rng.randint(3, 3)).toThrow()
  })

  it('normal has mean 0 and variance 1', () => {
    const rng = new Rng(3)
    const n = 100_000
    let sum = 0
    let sq = 0
    for (let i = 0; i < n; i++) {
      const z = rng.normal()
      sum += z
      sq += z * z
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.015)
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02)
  })

  it('permutation is a permutation, and all 24 orders of 4 are equally likely', () => {
    const rng = new Rng(4)
    const counts = new Map<string, number>()
    const n = 48_000
    for (let i = 0; i < n; i++) {
      const p = rng.permutation(4)
      expect([...p].sort()).toEqual([0, 1, 2, 3])
      counts.set(p.join(''), (counts.get(p.join('')) ?? 0) + 1)
    }
    expect(counts.size).toBe(24)
    // chi-square with 23 degrees of freedom; 49.7 is the 0.999 quantile
    const expected = n / 24
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0)
    expect(chi2).toBeLessThan(49.7)
    expect(rng.permutation(0)).toEqual([])
  })
})
