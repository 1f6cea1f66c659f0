import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyAudioAug, applyVisualAug, normalizeFrame, sampleVirtualParams, augOptionsFromConfig } from '../../src/main/engine/augment'
import { identityAudioAug, identityVisualAug, singleAudioAug, singleVisualAug } from '../../src/main/engine/augment/single'
import { equivarianceCases, equivarianceCosines, equivarianceMarkdown, equivarianceProbe } from '../../src/main/engine/eval/equivariance'
import { createParams, forwardPretrain, type Params } from '../../src/main/engine/model'
import { Rng } from '../../src/main/engine/rng'
import { syntheticClip } from '../../src/main/engine/train/synthetic'
import { rollAndTile } from '../../src/main/engine/train/views'
import { MICRO_MODEL as c } from '../helpers/micro'
import { useTestBackend } from '../helpers/tf'

let params: Params
beforeAll(async () => {
  await useTestBackend()
  params = createParams(c, 21)
})
afterAll(() => params.forEach((v) => v.dispose()))

const clips = [0, 1, 2].map((i) => syntheticClip(i, 0, c))
const audio = (xs: Float32Array[]): tf.Tensor4D => tf.tensor4d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [xs.length, 3, c.audioLength, c.numMelBins])
const frames = (xs: Float32Array[]): tf.Tensor4D => tf.tensor4d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [xs.length, 3, c.imgSize, c.imgSize])
const stackRows = (xs: Float32Array[]): tf.Tensor2D => tf.tensor2d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [xs.length, xs[0].length])

function cosRows(x: tf.Tensor2D, y: tf.Tensor2D): number[] {
  const a = x.arraySync()
  const b = y.arraySync()
  return a.map((row, i) => {
    const dot = row.reduce((s, v, k) => s + v * b[i][k], 0)
    return dot / (Math.hypot(...row) * Math.hypot(...b[i]))
  })
}

describe('single augmentations', () => {
  it('identity parameters leave the input unchanged and encode the official off values', () => {
    const x = rollAndTile(clips[0].fbank, c.audioLength, c.numMelBins, 0)
    const id = identityAudioAug(c.audioLength, c.numMelBins)
    expect(applyAudioAug(id.spec, x, c.audioLength, c.numMelBins)).toEqual(x)
    // crop on with the full extent (time over F, mel over T: the official normalisers), jitter order 0 1 2 3
    expect(Array.from(id.vector)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0])
    const v = identityVisualAug(c.imgSize, c.imgSize)
    const frame = clips[0].frames[1]
    const same = applyVisualAug(v.spec, frame, c.imgSize, c.imgSize, c.imgSize)
    same.forEach((p, i) => expect(p).toBeCloseTo(frame[i], 6))
    expect(Array.from(v.vector)).toEqual([1, 0, 0, 1, 1, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0])
  })

  it('only the probed part differs from the identity vector and spec', () => {
    const id = identityAudioAug(c.audioLength, c.numMelBins).vector
    const blur = singleAudioAug('blur', 1, new Rng(1), { T: c.audioLength, F: c.numMelBins })
    expect([...blur.vector.keys()].filter((i) => blur.vector[i] !== id[i])).toEqual([21, 22])
    expect(blur.spec).toMatchObject({ timeMask: null, freqMask: null, crop: null, colorJitter: null, blurSigma: 1, hflip: false })
    const gray = singleVisualAug('grayscale', 1, new Rng(1), { H: 32, W: 32 })
    const idV = identityVisualAug(32, 32).vector
    expect([...gray.vector.keys()].filter((i) => gray.vector[i] !== idV[i])).toEqual([17])
    const crop = singleVisualAug('rrc', 0.25, new Rng(2), { H: 32, W: 32 })
    expect(crop.spec.crop).toMatchObject({ height: 16, width: 16 })
    expect(crop.vector[3]).toBe(0.5)
  })
})

describe('equivariance cosines', () => {
  it('with identity augmentation, the actual embedding is the original one (invariant cos = 1 while norm_a_aug = norm_a)', () => {
    const xs = clips.map((cl) => rollAndTile(cl.fbank, c.audioLength, c.numMelBins, 0))
    const t = stackRows(clips.map(() => identityAudioAug(c.audioLength, c.numMelBins).vector))
    const r = equivarianceCosines(params, c, 'a', audio(xs), audio(xs), t)
    r.invariant.forEach((v) => expect(v).toBeCloseTo(1, 5))
    r.predicted.forEach((v) => expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6))
  })

  it('equals the cosines of the pretraining forward (ẑ, z′ of objective equiav; g(h), z′ of objective invariant)', () => {
    const rng = new Rng(5)
    const xs = clips.map((cl) => normalizeFrame(cl.frames[1], c.inputNorm.frame))
    const augs = clips.map(() => singleVisualAug('rrc', 0.5, rng, { H: c.imgSize, W: c.imgSize }))
    const xAug = augs.map((a, i) => normalizeFrame(applyVisualAug(a.spec, clips[i].frames[1], c.imgSize, c.imgSize, c.imgSize), c.inputNorm.frame))
    const ax = clips.map((cl) => rollAndTile(cl.fbank, c.audioLength, c.numMelBins, 0))
    const virtual = clips.map(() => sampleVirtualParams(rng, c.cenNum, augOptionsFromConfig(c)))
    const inputs = {
      a: audio(ax),
      aAug: audio(ax),
      v: frames(xs),
      vAug: frames(xAug),
      tA: stackRows(clips.map(() => identityAudioAug(c.audioLength, c.numMelBins).vector)),
      tV: stackRows(augs.map((a) => a.vector)),
      tAList: tf.tensor3d(Float32Array.from(virtual.flatMap((x) => Array.from(x.tAList))), [3, c.cenNum, c.augSizeA]),
      tVList: tf.tensor3d(Float32Array.from(virtual.flatMap((x) => Array.from(x.tVList))), [3, c.cenNum, c.augSizeV])
    }
    const equi = forwardPretrain(params, c, inputs, 'equiav')
    const inv = forwardPretrain(params, c, inputs, 'invariant')
    const r = equivarianceCosines(params, c, 'v', inputs.v, inputs.vAug, inputs.tV)
    const expectedPred = cosRows(equi.zVEquiT!, equi.zVAug!)
    const expectedInv = cosRows(inv.zVEquiT!, inv.zVAug!)
    expectedPred.forEach((v, i) => expect(r.predicted[i]).toBeCloseTo(v, 5))
    expectedInv.forEach((v, i) => expect(r.invariant[i]).toBeCloseTo(v, 5))
    expect(expectedPred.some((v, i) => Math.abs(v - expectedInv[i]) > 1e-4)).toBe(true) // the two columns measure different things
  })
})

describe('equivarianceProbe', () => {
  it('one row per augmentation type and strength, cosines in [−1, 1], reproducible, as a Markdown table', async () => {
    const probe = (): ReturnType<typeof equivarianceProbe> => equivarianceProbe(params, c, 3, async (i) => clips[i], { batchSize: 2, seed: 3 })
    const rows = await probe()
    expect(rows.map((r) => `${r.modality}:${r.augmentation}`)).toEqual(equivarianceCases(c).map((k) => `${k.modality}:${k.augmentation}`))
    expect(new Set(rows.filter((r) => r.modality === 'a').map((r) => r.augmentation))).toEqual(new Set(['specaug', 'rrc', 'colour-jitter', 'blur', 'hflip']))
    expect(new Set(rows.filter((r) => r.modality === 'v').map((r) => r.augmentation))).toEqual(new Set(['rrc', 'colour-jitter', 'blur', 'hflip', 'grayscale']))
    for (const r of rows) {
      expect(r.n).toBe(3)
      for (const v of [r.predicted, r.invariant]) {
        expect(v).toBeGreaterThanOrEqual(-1 - 1e-6)
        expect(v).toBeLessThanOrEqual(1 + 1e-6)
      }
    }
    expect(await probe()).toEqual(rows)
    const md = equivarianceMarkdown(rows)
    expect(md.split('\n').filter((l) => l.startsWith('| audio') || l.startsWith('| visual'))).toHaveLength(rows.length)
  })
})
