import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import { cacheSettingsFor } from '../../src/main/data/dataset-source'
import { evenSample, INPUT_NORM_META, inputNormOf, resolveInputNorm } from '../../src/main/data/input-norm'
import { normalizeFrame } from '../../src/main/engine/augment'
import { type InputNorm, OFFICIAL_INPUT_NORM, PRESETS, withInputNorm } from '../../src/main/engine/config'

const dir = mkdtempSync(join(tmpdir(), 'equiav-norm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** one 2 × 2 RGB frame as [H, W, 3] bytes */
const frame = (rgb: [number, number, number][]): Uint8Array => Uint8Array.from(rgb.flat())

describe('a dataset’s input statistics', () => {
  it('are the mean and population std of every fbank value and of each frame channel', () => {
    const norm = inputNormOf(
      [
        { fbank: Float32Array.from([1, 3]), frames: [frame([[0, 255, 51], [255, 255, 51]])] },
        { fbank: Float32Array.from([5, 7]), frames: [frame([[0, 0, 51], [255, 0, 102]])] }
      ],
      'hand case'
    )
    // fbank values 1, 3, 5, 7: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5
    expect(norm.fbank.mean).toBe(4)
    expect(norm.fbank.std).toBeCloseTo(Math.sqrt(5), 3)
    // red 0, 1, 0, 1 → mean ½, std ½; green 1, 1, 0, 0 → ½, ½; blue 0.2, 0.2, 0.2, 0.4 → 0.25, √0.0075
    expect(norm.frame.mean).toEqual([0.5, 0.5, 0.25])
    expect(norm.frame.std[0]).toBeCloseTo(0.5, 4)
    expect(norm.frame.std[1]).toBeCloseTo(0.5, 4)
    expect(norm.frame.std[2]).toBeCloseTo(Math.sqrt(0.0075), 4)
    expect(norm.source).toBe('hand case')
  })

  it('refuses inputs without spread, naming where they come from', () => {
    const flat = { fbank: Float32Array.from([2, 2]), frames: [frame([[9, 9, 9], [9, 9, 9]])] }
    expect(() => inputNormOf([flat], 'dataset x')).toThrow(/dataset x: the inputs have no spread/)
    expect(() => inputNormOf([], 'dataset y')).toThrow(/dataset y: no samples/)
  })

  it('sample clips evenly and reproducibly', () => {
    expect(evenSample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([0, 2, 5, 7])
    expect(evenSample([1, 2], 5)).toEqual([1, 2])
  })

  it('are used when stored, unless the official ones are asked for', () => {
    const catalog = Catalog.open(dir)
    try {
      expect(resolveInputNorm(catalog, 'x')).toEqual(OFFICIAL_INPUT_NORM)
      expect(() => resolveInputNorm(catalog, 'x', 'dataset')).toThrow(/equiav dataset norm-stats --name x/)
      const own = { fbank: { mean: -9.2, std: 6 }, frame: { mean: [0.03, 0.03, 0.03], std: [0.14, 0.14, 0.14] }, source: 'dataset x' }
      catalog.setMeta(INPUT_NORM_META, JSON.stringify(own))
      expect(resolveInputNorm(catalog, 'x')).toEqual(own)
      expect(resolveInputNorm(catalog, 'x', 'dataset')).toEqual(own)
      expect(resolveInputNorm(catalog, 'x', 'official')).toEqual(OFFICIAL_INPUT_NORM)
    } finally {
      catalog.close()
    }
  })

  it('select the cache (its fbank normalisation) and the frame normalisation of a model', () => {
    const inputNorm: InputNorm = { fbank: { mean: -9.2, std: 6 }, frame: { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 0.1] }, source: 's' }
    const model = { ...PRESETS.tiny, inputNorm }
    expect(cacheSettingsFor(model).norm).toEqual({ mean: -9.2, std: 6 })
    expect(cacheSettingsFor(PRESETS.tiny).norm).toEqual({ mean: -4.346, std: 4.332 })
    const y = normalizeFrame(Float32Array.from([0.6, 0.7, 0.4]), { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 0.1] })
    expect(Array.from(y).map((v) => Number(v.toFixed(5)))).toEqual([1, 2, 1])
  })

  it('default to the official ones for a run saved before they existed', () => {
    const { inputNorm: _dropped, ...old } = PRESETS.tiny
    expect(withInputNorm(old).inputNorm).toEqual(OFFICIAL_INPUT_NORM)
  })
})
