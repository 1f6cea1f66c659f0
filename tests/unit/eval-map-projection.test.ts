import { describe, expect, it } from 'vitest'
import { centred, jointCentredPerModality, type MapProjection, projectMap } from '../../src/main/engine/eval/map-projection'
import { pca } from '../../src/main/engine/eval/projection'
import { Rng } from '../../src/main/engine/rng'

const PCA: MapProjection = { method: 'pca', space: 'joint', nNeighbors: 15, minDist: 0.1, seed: 0 }

/**
 * n clips in d dimensions whose audio and visual embeddings share a clip's content z (variance 4 along
 * e1, 1 along e2, 0.01 elsewhere) plus a little modality noise, and whose modalities sit `gap` apart along
 * g = (e0 + e3)/√2: audio = z + gap/2·g, visual = z − gap/2·g.
 */
function pairedClouds(n: number, d: number, gap: number): { audio: Float32Array; visual: Float32Array } {
  const rng = new Rng(11)
  const audio = new Float32Array(n * d)
  const visual = new Float32Array(n * d)
  const sd = [0.1, 2, 1, 0.1, 0.1, 0.1].concat(Array(Math.max(0, d - 6)).fill(0.1))
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const z = sd[j] * rng.normal()
      const g = j === 0 || j === 3 ? (gap / 2) * Math.SQRT1_2 : 0
      audio[i * d + j] = z + g + 0.05 * rng.normal()
      visual[i * d + j] = z - g + 0.05 * rng.normal()
    }
  }
  return { audio, visual }
}

const mean = (x: Float32Array): number => x.reduce((a, b) => a + b, 0) / x.length

describe('the joint map, centred per modality', () => {
  it('does not spend its first axis on a constant gap between the modalities', () => {
    const d = 6
    const { audio, visual } = pairedClouds(600, d, 40)
    const stacked = new Float32Array(audio.length * 2)
    stacked.set(audio)
    stacked.set(visual, audio.length)
    const gapAxis = [Math.SQRT1_2, 0, 0, Math.SQRT1_2, 0, 0]
    const along = (axis: Float64Array, u: number[]): number => Math.abs(axis.reduce((s, a, j) => s + a * u[j], 0))
    // without centring, PC1 is the gap: its variance is (gap/2)² = 400 against the content's 4
    const raw = pca(stacked, d, 2)
    expect(along(raw.axes[0], gapAxis)).toBeCloseTo(1, 2)
    // centred per modality, PC1 and PC2 are the content's axes e1 (variance 4) and e2 (variance 1)
    const fixed = pca(jointCentredPerModality(audio, visual, d), d, 2)
    expect(along(fixed.axes[0], [0, 1, 0, 0, 0, 0])).toBeCloseTo(1, 2)
    expect(along(fixed.axes[1], [0, 0, 1, 0, 0, 0])).toBeCloseTo(1, 2)
    expect(along(fixed.axes[0], gapAxis)).toBeLessThan(0.02)
    expect(fixed.variance[0]).toBeCloseTo(4, 0)
    // and the map draws both modalities of a clip on top of each other, not in two strands
    const map = projectMap(audio, visual, d, PCA)
    expect(Math.abs(mean(map.ax) - mean(map.vx))).toBeLessThan(0.05)
    expect(Math.abs(mean(map.ay) - mean(map.vy))).toBeLessThan(0.05)
    let far = 0
    for (let i = 0; i < 600; i++) far = Math.max(far, Math.hypot(map.ax[i] - map.vx[i], map.ay[i] - map.vy[i]))
    expect(far).toBeLessThan(1) // only the modality noise (σ 0.05 per dimension) parts a clip's two points
    expect(Array.from(map.ax)).toEqual(Array.from({ length: 600 }, (_, i) => fixed.coords[2 * i]))
    expect(Array.from(map.vy)).toEqual(Array.from({ length: 600 }, (_, i) => fixed.coords[2 * (600 + i) + 1]))
  })

  it('centres each column on its mean', () => {
    const c = centred(Float32Array.from([1, 10, 3, 20, 5, 60]), 2)
    expect(Array.from(c)).toEqual([-2, -20, 0, -10, 2, 30])
  })
})

describe('one modality alone', () => {
  it("is the PCA of that modality's embeddings; the other modality is not drawn (NaN)", () => {
    const d = 6
    const { audio, visual } = pairedClouds(200, d, 40)
    const a = projectMap(audio, visual, d, { ...PCA, space: 'audio' })
    const want = pca(audio, d, 2).coords
    expect(Array.from(a.ay)).toEqual(Array.from({ length: 200 }, (_, i) => want[2 * i + 1]))
    expect(a.vx.every(Number.isNaN) && a.vy.every(Number.isNaN)).toBe(true)
    const v = projectMap(audio, visual, d, { ...PCA, space: 'visual' })
    expect(Array.from(v.vx)).toEqual(Array.from({ length: 200 }, (_, i) => pca(visual, d, 2).coords[2 * i]))
    expect(v.ax.every(Number.isNaN)).toBe(true)
  })

  it('refuses embeddings that are not [n, d] each', () => {
    expect(() => projectMap(new Float32Array(6), new Float32Array(4), 2, PCA)).toThrow(/not \[n, 2\] each/)
  })
})

describe('UMAP of the joint space', () => {
  /** 3 classes of 30 clips, far apart in both modalities (the modalities 30 apart as well) */
  function classes(): { audio: Float32Array; visual: Float32Array; label: number[] } {
    const rng = new Rng(5)
    const d = 8
    const n = 90
    const audio = new Float32Array(n * d)
    const visual = new Float32Array(n * d)
    const label = Array.from({ length: n }, (_, i) => i % 3)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const centre = j === label[i] ? 8 : 0
        audio[i * d + j] = centre + 0.4 * rng.normal() + (j === 7 ? 15 : 0)
        visual[i * d + j] = centre + 0.4 * rng.normal() - (j === 7 ? 15 : 0)
      }
    }
    return { audio, visual, label }
  }

  it('is deterministic for a seed, reports its epochs, and keeps each point among its own class', () => {
    const { audio, visual, label } = classes()
    const p: MapProjection = { method: 'umap', space: 'joint', nNeighbors: 10, minDist: 0.1, seed: 3 }
    const seen: [number, number][] = []
    const m = projectMap(audio, visual, 8, p, (done, total) => seen.push([done, total]))
    expect(seen.length).toBeGreaterThan(100)
    expect(seen.at(-1)![0]).toBe(seen.at(-1)![1])
    expect(projectMap(audio, visual, 8, p)).toEqual(m)
    expect(projectMap(audio, visual, 8, { ...p, seed: 4 }).ax).not.toEqual(m.ax)
    // the 5 nearest map points of every point (audio and visual, 180 in all) are of its class
    const xs = [...m.ax, ...m.vx]
    const ys = [...m.ay, ...m.vy]
    const cls = [...label, ...label]
    let same = 0
    for (let i = 0; i < xs.length; i++) {
      const near = xs
        .map((x, j) => [Math.hypot(x - xs[i], ys[j] - ys[i]), j] as const)
        .filter(([, j]) => j !== i)
        .sort((a, b) => a[0] - b[0])
        .slice(0, 5)
      same += near.filter(([, j]) => cls[j] === cls[i]).length
    }
    expect(same / (5 * xs.length)).toBeGreaterThan(0.98)
  })
})
