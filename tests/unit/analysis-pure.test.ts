import { describe, expect, it } from 'vitest'
import { queryTopK } from '../../src/main/analysis/query-top-k'
import { decodeColumns, encodeColumns, MAP_COLUMNS } from '../../src/shared/columns'
import { Bitset, lassoSelect, pointInPolygon } from '../../src/renderer/src/lib/lasso'
import { Rng } from '../../src/main/engine/rng'

/** the reference: every score, sorted (score desc, index asc), and 1 + the count strictly above the truth */
function naive(gallery: Float32Array, d: number, q: Float32Array, k: number, truth: number) {
  const n = gallery.length / d
  const s = Array.from({ length: n }, (_, i) => {
    let t = 0
    for (let j = 0; j < d; j++) t += gallery[i * d + j] * q[j]
    return Math.fround(t)
  })
  const order = s.map((_, i) => i).sort((a, b) => s[b] - s[a] || a - b)
  return { indices: order.slice(0, k), rank: 1 + s.filter((x) => x > s[truth]).length }
}

describe('queryTopK', () => {
  it('matches a full sort on random galleries for several k', () => {
    const rng = new Rng(7)
    for (const [n, d, k] of [[50, 8, 5], [200, 16, 10], [7, 3, 10], [33, 4, 1]]) {
      const gallery = Float32Array.from({ length: n * d }, () => rng.uniform() * 2 - 1)
      const truth = Math.floor(rng.uniform() * n)
      const q = Float32Array.from({ length: d }, () => rng.uniform() * 2 - 1)
      const got = queryTopK(gallery, d, q, k, truth)
      const want = naive(gallery, d, q, Math.min(k, n), truth)
      expect(Array.from(got.indices)).toEqual(want.indices)
      expect(got.rank).toBe(want.rank)
      for (let r = 1; r < got.scores.length; r++) expect(got.scores[r]).toBeLessThanOrEqual(got.scores[r - 1])
    }
  })
  it('breaks ties by gallery index and ranks a tied truth first among equals', () => {
    // rows 0..3 score 1, 1, 0.5, 1 against q = [1, 0]
    const gallery = Float32Array.from([1, 0, 1, 0, 0.5, 0, 1, 0])
    const got = queryTopK(gallery, 2, Float32Array.from([1, 0]), 3, 3)
    expect(Array.from(got.indices)).toEqual([0, 1, 3])
    expect(got.rank).toBe(1) // nothing is strictly more similar than row 3
    expect(queryTopK(gallery, 2, Float32Array.from([1, 0]), 4, 2).rank).toBe(4)
  })
  it('refuses a query of the wrong width or a truth outside the gallery', () => {
    expect(() => queryTopK(new Float32Array(6), 2, new Float32Array(3), 2, 0)).toThrow(/query has 3 values, expected 2/)
    expect(() => queryTopK(new Float32Array(6), 2, new Float32Array(2), 2, 3)).toThrow(/outside the gallery of 3/)
  })
})

describe('lasso', () => {
  const square = [0, 0, 1, 0, 1, 1, 0, 1]
  it('holds interior points and not exterior ones', () => {
    expect(pointInPolygon(0.5, 0.5, square)).toBe(true)
    expect(pointInPolygon(1.5, 0.5, square)).toBe(false)
    expect(pointInPolygon(0.5, -0.01, square)).toBe(false)
  })
  it('treats edges half-open, so two lassos sharing an edge never both hold a point on it', () => {
    expect(pointInPolygon(0, 0.5, square)).toBe(true) // left edge
    expect(pointInPolygon(1, 0.5, square)).toBe(false) // right edge
    expect(pointInPolygon(0.5, 0, square)).toBe(true) // bottom edge
    expect(pointInPolygon(0.5, 1, square)).toBe(false) // top edge
    const right = [1, 0, 2, 0, 2, 1, 1, 1]
    for (const y of [0, 0.25, 0.5, 0.99]) expect(Number(pointInPolygon(1, y, square)) + Number(pointInPolygon(1, y, right))).toBe(1)
  })
  it('follows a concave outline and the even-odd rule for a self-crossing one', () => {
    const ell = [0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2] // an L: the notch (1.5, 1.5) is outside
    expect(pointInPolygon(0.5, 1.5, ell)).toBe(true)
    expect(pointInPolygon(1.5, 1.5, ell)).toBe(false)
    // a pentagram drawn in one stroke: the points are inside, the central pentagon is crossed twice (outside)
    const star = Array.from({ length: 5 }, (_, i) => i).flatMap((i) => {
      const a = Math.PI / 2 + (i * 4 * Math.PI) / 5
      return [Math.cos(a), Math.sin(a)]
    })
    expect(pointInPolygon(0, 0, star)).toBe(false)
    expect(pointInPolygon(0, 0.8, star)).toBe(true)
  })
  it('holds nothing for fewer than three vertices or NaN points', () => {
    expect(pointInPolygon(0, 0, [0, 0, 1, 1])).toBe(false)
    const sel = lassoSelect(Float32Array.from([0.5, NaN, 3]), Float32Array.from([0.5, 0.5, 3]), square)
    expect(sel.indices()).toEqual([0])
    expect(lassoSelect(Float32Array.from([0.5]), Float32Array.from([0.5]), [0, 0, 1, 1]).count()).toBe(0)
  })
  it('selects exactly the points a per-point test selects, as a bitset', () => {
    const rng = new Rng(3)
    const n = 1000
    const xs = Float32Array.from({ length: n }, () => rng.uniform() * 4 - 2)
    const ys = Float32Array.from({ length: n }, () => rng.uniform() * 4 - 2)
    const poly = [-1, -1.5, 1.5, -1, 0.2, 0, 1.2, 1.4, -1.3, 1]
    const sel = lassoSelect(xs, ys, poly)
    const want = Array.from({ length: n }, (_, i) => i).filter((i) => pointInPolygon(xs[i], ys[i], poly))
    expect(sel.indices()).toEqual(want)
    expect(sel.count()).toBe(want.length)
    expect(want.length).toBeGreaterThan(100)
  })
  it('bitset words hold bit i of index i', () => {
    const b = new Bitset(70)
    ;[0, 31, 32, 69].forEach((i) => b.add(i))
    expect(Array.from(b.words)).toEqual([0x80000001 >>> 0, 1, 32])
    expect(b.has(31)).toBe(true)
    expect(b.has(30)).toBe(false)
  })
})

describe('binary columns', () => {
  it('round-trips the map columns, little-endian, column after column', () => {
    const cols = MAP_COLUMNS.map((_, c) => Float32Array.from({ length: 5 }, (_, i) => c * 10 + i + 0.25))
    const bytes = encodeColumns(cols)
    expect(bytes.byteLength).toBe(4 * 5 * 4)
    expect(new DataView(bytes.buffer).getFloat32(5 * 4, true)).toBe(10.25) // column 1, value 0
    const back = decodeColumns(bytes.buffer, 5, MAP_COLUMNS)
    MAP_COLUMNS.forEach((name, c) => expect(Array.from(back[name])).toEqual(Array.from(cols[c])))
  })
  it('decodes from an unaligned view and refuses a wrong length', () => {
    const bytes = encodeColumns([Float32Array.from([1, 2]), Float32Array.from([3, 4])])
    const shifted = new Uint8Array(bytes.byteLength + 1)
    shifted.set(bytes, 1)
    expect(Array.from(decodeColumns(shifted.subarray(1), 2, ['x', 'y']).y)).toEqual([3, 4])
    expect(() => decodeColumns(bytes, 3, ['x', 'y'])).toThrow(/16 bytes, expected 24 \(2 columns × 3 float32\)/)
    expect(() => encodeColumns([new Float32Array(2), new Float32Array(3)])).toThrow(/column 1 has 3 values/)
  })
})
