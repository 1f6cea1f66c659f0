/**
 * The crop's part of the augmentation vectors at the paper's non-square audio input (1024 frames × 128 mel
 * bins), where the official swapped normalisers show: t_a divides the crop's time extents by F = 128 and
 * its mel extents by T = 1024. At a square input the swap would be invisible.
 */
import { describe, expect, it } from 'vitest'
import { AUDIO_AUG_INDEX as A, defaultMaskWidths, sampleAudioAugParams } from '../../src/main/engine/augment/audio'
import { identityAudioAug, identityVisualAug, singleAudioAug, singleVisualAug } from '../../src/main/engine/augment/single'
import { VISUAL_AUG_INDEX as V } from '../../src/main/engine/augment/visual'
import { Rng } from '../../src/main/engine/rng'

const cropFields = (v: Float32Array, I: typeof A | typeof V): number[] => [v[I.cropOn], v[I.cropTop], v[I.cropLeft], v[I.cropHeight], v[I.cropWidth]]

describe('the audio crop vector at 1024 × 128', () => {
  it('sampled views: time extents over 128, mel extents over 1024', () => {
    for (let seed = 0; seed < 20; seed++) {
      const { spec, vector } = sampleAudioAugParams(new Rng(seed), { T: 1024, F: 128 })
      const c = spec.crop!
      expect(c.height).toBeGreaterThan(0)
      expect(cropFields(vector, A)).toEqual([1, c.top / 128, c.left / 1024, c.height / 128, c.width / 1024].map(Math.fround))
    }
  })

  it('the equivariance probe: the identity crop is [1, 0, 0, 8, 1/8], a probed crop as the sampled ones', () => {
    expect(cropFields(identityAudioAug(1024, 128).vector, A)).toEqual([1, 0, 0, 8, 0.125])
    for (const level of [0.75, 0.25]) {
      const { spec, vector } = singleAudioAug('rrc', level, new Rng(3), { T: 1024, F: 128 })
      const c = spec.crop!
      expect(c.height).toBeLessThan(1024)
      expect(cropFields(vector, A)).toEqual([1, c.top / 128, c.left / 1024, c.height / 128, c.width / 1024].map(Math.fround))
    }
  })

  it('SpecAugment masks default to the official 192 frames and 48 bins there, scaled elsewhere', () => {
    expect(defaultMaskWidths(1024, 128)).toEqual({ timem: 192, freqm: 48 })
    expect(defaultMaskWidths(304, 128)).toEqual({ timem: 57, freqm: 48 })
  })
})

describe('the visual crop vector', () => {
  it('divides by the frame\'s own height and width', () => {
    expect(cropFields(identityVisualAug(224, 224).vector, V)).toEqual([1, 0, 0, 1, 1])
    const { spec, vector } = singleVisualAug('rrc', 0.25, new Rng(5), { H: 224, W: 224 })
    const c = spec.crop
    expect(cropFields(vector, V)).toEqual([1, c.top / 224, c.left / 224, c.height / 224, c.width / 224].map(Math.fround))
  })
})
