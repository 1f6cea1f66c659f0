import { describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/main/engine/config'
import { batchIndices, derivedRng, stepsPerEpoch } from '../../src/main/engine/train/data-source'
import { collateBatch, rollAndTile } from '../../src/main/engine/train/views'
import { syntheticClip, syntheticPattern, SYNTHETIC_CLASSES } from '../../src/main/engine/train/synthetic'

describe('batch composition', () => {
  it('is a pure function of (seed, step) and covers each epoch exactly once', () => {
    const size = 37
    const B = 8
    const spe = stepsPerEpoch(size, B)
    expect(spe).toBe(4) // drop_last: floor(37 / 8)
    const seen = new Set<number>()
    for (let s = 0; s < spe; s++) {
      const { epoch, indices } = batchIndices(s, size, B, 7)
      expect(epoch).toBe(0)
      indices.forEach((i) => seen.add(i))
      expect(batchIndices(s, size, B, 7).indices).toEqual(indices)
    }
    expect(seen.size).toBe(spe * B) // no clip twice within an epoch
    expect(batchIndices(spe, size, B, 7).epoch).toBe(1)
    expect(batchIndices(0, size, B, 8).indices).not.toEqual(batchIndices(0, size, B, 7).indices)
    expect(batchIndices(spe, size, B, 7).indices).not.toEqual(batchIndices(0, size, B, 7).indices)
  })
})

describe('rollAndTile', () => {
  it('rolls along time like torch.roll and tiles three identical channels', () => {
    const T = 5
    const F = 2
    const x = Float32Array.from({ length: T * F }, (_, i) => i) // row t = [2t, 2t+1]
    const y = rollAndTile(x, T, F, 2)
    // torch.roll(x, 2, 0): row t of the output is row (t - 2) mod T of the input
    for (let c = 0; c < 3; c++) {
      for (let t = 0; t < T; t++) {
        const src = (t - 2 + T) % T
        expect([y[c * T * F + t * F], y[c * T * F + t * F + 1]]).toEqual([2 * src, 2 * src + 1])
      }
    }
    expect(rollAndTile(x, T, F, -3)).toEqual(y) // −3 ≡ 2 (mod 5)
  })

  it('is skipped with timeRoll false: the original audio is the fbank itself, everything else unchanged', () => {
    const c = { ...PRESETS.tiny, cenNum: 2 }
    const clips = [0, 1].map((i) => syntheticClip(i, 0, c))
    const rolled = collateBatch(clips, derivedRng(0, 'step', 3), c)
    const kept = collateBatch(clips, derivedRng(0, 'step', 3), c, false)
    const n = c.audioLength * c.numMelBins
    clips.forEach((clip, i) => {
      for (let ch = 0; ch < 3; ch++) expect(kept.a.subarray((3 * i + ch) * n, (3 * i + ch + 1) * n)).toEqual(clip.fbank)
    })
    expect(rolled.a).not.toEqual(kept.a)
    expect(kept.v).toEqual(rolled.v)
    expect(kept.tV).toEqual(rolled.tV)
    expect(kept.tAList).toEqual(rolled.tAList)
  })
})

describe('synthetic task', () => {
  const dims = { audioLength: 64, numMelBins: 32, imgSize: 16 }
  it('is deterministic and shares the pattern between modalities', () => {
    const a = syntheticClip(3, 1, dims)
    expect(syntheticClip(3, 1, dims)).toEqual(a)
    expect(a.label).toBe(3 % SYNTHETIC_CLASSES)
    const { bits } = syntheticPattern(3)
    // time segment k carries the tone iff bit k is set: compare segment energies with the bits
    const segment = 64 / 8
    for (let k = 0; k < 8; k++) {
      let peak = -Infinity
      for (let t = k * segment; t < (k + 1) * segment; t++) for (let f = 0; f < 32; f++) peak = Math.max(peak, a.fbank[t * 32 + f])
      expect(peak > 0.5).toBe(Boolean((bits >> k) & 1))
    }
    // frame block k is lit (differs from grey) iff bit k is set
    const frame = a.frames[0]
    for (let k = 0; k < 8; k++) {
      const y = Math.floor(k / 4) * 8 + 4
      const x = (k % 4) * 4 + 2
      const px = [0, 1, 2].map((c) => frame[c * 256 + y * 16 + x])
      const grey = px.every((v) => Math.abs(v - 0.5) < 0.2)
      expect(grey).toBe(!((bits >> k) & 1))
    }
  })
  it('gives distinct patterns to the first 256 clips of a class-balanced set', () => {
    const keys = new Set(Array.from({ length: 256 }, (_, i) => JSON.stringify(syntheticPattern(i))))
    expect(keys.size).toBeGreaterThan(250)
  })
})
