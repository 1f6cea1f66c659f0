/**
 * The EquiAV model structure and forward semantics: parameter names/shapes/counts against the official
 * model (fixture state dict, published counts), seeded determinism, and each objective's outputs against
 * the same quantities computed by separate, unpacked calls.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  modelConfigFromFixture,
  officialFromParams,
  paramsFromOfficial,
  unusedNormElementCount
} from '../../src/main/engine/checkpoint/official'
import { readSafetensors } from '../../src/main/data/checkpoint-files'
import { type ModelConfig, PRESETS } from '../../src/main/engine/config'
import { encodeAudio, encodeVisual } from '../../src/main/engine/model/encoder'
import { type PretrainInputs, forwardFeat, forwardPretrain } from '../../src/main/engine/model/equiav'
import { projectionHead } from '../../src/main/engine/model/heads'
import { type Params, createParams, disposeParams, numElements, paramSpec } from '../../src/main/engine/model/params'
import { augmentationPredictor } from '../../src/main/engine/model/predictor'
import { Rng } from '../../src/main/engine/rng'
import type { Objective } from '../../src/main/engine/types'
import { parityFixtureDir } from '../helpers/fixtures'
import { useTestBackend } from '../helpers/tf'

const tiny: ModelConfig = { ...PRESETS.tiny, cenNum: 3 }
const B = 2

function randomTensor<T extends tf.Tensor>(shape: number[], seed: number): T {
  const rng = new Rng(seed)
  return tf.tensor(Float32Array.from({ length: numElements(shape) }, () => rng.normal()), shape) as T
}

function tinyInputs(c: ModelConfig): PretrainInputs {
  return {
    a: randomTensor([B, 3, c.audioLength, c.numMelBins], 1),
    v: randomTensor([B, 3, c.imgSize, c.imgSize], 2),
    aAug: randomTensor([B, 3, c.audioLength, c.numMelBins], 3),
    vAug: randomTensor([B, 3, c.imgSize, c.imgSize], 4),
    tA: randomTensor([B, c.augSizeA], 5),
    tV: randomTensor([B, c.augSizeV], 6),
    tAList: randomTensor([B, c.cenNum, c.augSizeA], 7),
    tVList: randomTensor([B, c.cenNum, c.augSizeV], 8)
  }
}

/** bitwise equality of two parameter sets' values (toEqual on large typed arrays is slow) */
function expectIdenticalParams(a: Params, b: Params): void {
  expect([...a.keys()]).toEqual([...b.keys()])
  for (const [name, v] of a) {
    const x = v.dataSync() as Float32Array
    const y = b.get(name)?.dataSync() as Float32Array
    expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), name).toBe(true)
  }
}

function expectSame(a: tf.Tensor | undefined, b: tf.Tensor | undefined, tol = 1e-5): void {
  if (!a || !b) throw new Error('missing tensor')
  expect(a.shape).toEqual(b.shape)
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(tol)
}

describe('EquiAV parameters', () => {
  it('base preset: counts match the official model (211.655 M incl. pos-embeds, 211.111 M trainable, 586 tensors)', () => {
    const specs = paramSpec(PRESETS.base)
    const total = specs.reduce((s, p) => s + numElements(p.shape), 0)
    const trainable = specs.filter((p) => p.trainable).reduce((s, p) => s + numElements(p.shape), 0)
    // we skip the 4 unused LayerNorms per block (norm1_a/norm1_v/norm2_a/norm2_v: 192 tensors, 147,456 values); add them back to compare
    const unused = unusedNormElementCount(PRESETS.base)
    expect(unused).toBe(147_456)
    expect(total + unused).toBe(211_655_168)
    expect(Math.round((total + unused) / 1000)).toBe(211_655)
    expect(Math.round((trainable + unused) / 1000)).toBe(211_111)
    expect(specs.length + 192).toBe(586)
    expect(specs.filter((p) => !p.trainable).map((p) => p.name)).toEqual(['pos_embed_a', 'pos_embed_v'])
  })

  it('names and official shapes equal the official state dict of the fixture (less the unused norms)', async () => {
    const dir = parityFixtureDir()
    const config = modelConfigFromFixture(JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')))
    const dict = await readSafetensors(join(dir, 'weights.safetensors'))
    const official = new Map(
      [...dict].filter(([k]) => !/\.norm[12]_[av]\./.test(k)).map(([k, t]) => [k.replace(/^__M__\./, ''), t.shape])
    )
    const ours = new Map(paramSpec(config).map((s) => [s.name, s.officialShape]))
    expect([...ours.keys()].sort()).toEqual([...official.keys()].sort())
    for (const [name, shape] of ours) expect(shape, name).toEqual(official.get(name))
  })
})

describe('EquiAV model', () => {
  let params: Params
  let inputs: PretrainInputs

  beforeAll(async () => {
    await useTestBackend()
    params = createParams(tiny, 11)
    inputs = tinyInputs(tiny)
  })
  afterAll(() => {
    disposeParams(params)
    tf.dispose(Object.values(inputs))
  })

  it('fixed sin-cos position embeddings equal the ones PyTorch computed for the fixture', async () => {
    const dir = parityFixtureDir()
    const config = modelConfigFromFixture(JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')))
    const dict = await readSafetensors(join(dir, 'weights.safetensors'))
    const fresh = createParams(config, 0)
    for (const m of ['a', 'v']) {
      const want = dict.get(`__M__.pos_embed_${m}`)
      expectSame(fresh.get(`pos_embed_${m}`), tf.tensor(want?.data ?? [], want?.shape), 1e-6)
    }
    disposeParams(fresh)
  })

  it('createParams is deterministic by seed and follows the official initialisers', () => {
    const again = createParams(tiny, 11)
    const other = createParams(tiny, 12)
    expectIdenticalParams(again, params)
    expect(other.get('blocks_a.0.attn.qkv.weight')?.dataSync()[0]).not.toBe(params.get('blocks_a.0.attn.qkv.weight')?.dataSync()[0])
    disposeParams(again)
    disposeParams(other)

    const qkv = params.get('blocks_v.1.attn.qkv.weight') as tf.Variable
    const bound = Math.sqrt(6 / (tiny.embedDim + 3 * tiny.embedDim))
    const maxAbs = tf.max(tf.abs(qkv)).dataSync()[0]
    expect(maxAbs).toBeLessThanOrEqual(bound)
    expect(maxAbs).toBeGreaterThan(0.99 * bound)
    expect(tf.max(tf.abs(params.get('blocks_v.1.attn.qkv.bias') as tf.Variable)).dataSync()[0]).toBe(0)
    expect(tf.min(params.get('pred_a_inter.norm2.weight') as tf.Variable).dataSync()[0]).toBe(1)
    const mod = params.get('modality_a')?.dataSync() as Float32Array
    const std = Math.sqrt(mod.reduce((s, x) => s + x * x, 0) / mod.length)
    expect(std).toBeGreaterThan(0.015)
    expect(std).toBeLessThan(0.025)
    expect(params.get('pos_embed_a')?.trainable).toBe(false)
    expect(params.get('modality_a')?.trainable).toBe(true)
  })

  it('official dict round trip and a clear error for mismatched dicts', () => {
    const dict = officialFromParams(params, tiny)
    expect(dict.has('__M__.blocks_a.0.norm1_a.weight')).toBe(true)
    const back = paramsFromOfficial(dict, tiny)
    expectIdenticalParams(back, params)
    disposeParams(back)

    dict.delete('__M__.cross_attn_v.attn.to_out.weight')
    dict.set('__M__.cross_attn_v.attn.to_out.bias', { shape: [tiny.embedDim], dtype: 'F32', data: new Float32Array(tiny.embedDim) })
    const qkv = dict.get('__M__.blocks_a.1.attn.qkv.weight')
    if (qkv) qkv.shape = [qkv.shape[1], qkv.shape[0]]
    expect(() => paramsFromOfficial(dict, tiny)).toThrow(
      /missing \(1\): cross_attn_v\.attn\.to_out\.weight[\s\S]*unexpected \(1\): cross_attn_v\.attn\.to_out\.bias[\s\S]*shape mismatch \(1\): blocks_a\.1\.attn\.qkv\.weight/
    )
  })

  it.each<Objective>(['equiav', 'invariant', 'inter-only'])('forwardPretrain(%s) output shapes', (objective) => {
    const out = forwardPretrain(params, tiny, inputs, objective)
    expect(out.zAInv.shape).toEqual([B, tiny.interProjOutDim])
    expect(out.zVInv.shape).toEqual([B, tiny.interProjOutDim])
    for (const z of [out.zAEquiT, out.zVEquiT, out.zAAug, out.zVAug]) {
      if (objective === 'inter-only') expect(z).toBeUndefined()
      else expect(z?.shape).toEqual([B, tiny.intraProjOutDim])
    }
    tf.dispose(Object.values(out))
  })

  it('equiav outputs equal the official composition computed with separate predictor calls', () => {
    const out = forwardPretrain(params, tiny, inputs, 'equiav')
    const hA = encodeAudio(params, tiny, inputs.a)
    const hV = encodeVisual(params, tiny, inputs.v)
    const u = (m: 'a' | 'v', h: tf.Tensor3D, t: tf.Tensor3D): tf.Tensor2D => tf.mean(augmentationPredictor(params, tiny, m, h, t), 1)
    expectSame(out.zAInv, projectionHead(params, tiny, 'pred_a_inter', u('a', hA, inputs.tAList)))
    expectSame(out.zVInv, projectionHead(params, tiny, 'pred_v_inter', u('v', hV, inputs.tVList)))
    expectSame(out.zAEquiT, projectionHead(params, tiny, 'pred_a_intra', u('a', hA, tf.expandDims(inputs.tA, 1))))
    expectSame(out.zVEquiT, projectionHead(params, tiny, 'pred_v_intra', u('v', hV, tf.expandDims(inputs.tV, 1))))
    const feat = forwardFeat(params, tiny, inputs.a, inputs.v, inputs.tAList, inputs.tVList)
    expectSame(feat.zA, out.zAInv)
    expectSame(feat.zV, out.zVInv)
    // the augmented view uses its own final norm (norm_a_aug): changing it must change z_a_aug only
    const invariant = forwardPretrain(params, tiny, inputs, 'invariant')
    expectSame(out.zAAug, invariant.zAAug)
    const pooledAugWrongNorm = tf.mean(encodeAudio(params, tiny, inputs.aAug), 1) as tf.Tensor2D
    tf.tidy(() => {
      const scaled = new Map(params)
      scaled.set('norm_a_aug.bias', tf.variable(randomTensor([tiny.embedDim], 9)))
      const changed = forwardPretrain(scaled, tiny, inputs, 'equiav')
      expect(tf.max(tf.abs(tf.sub(changed.zAAug as tf.Tensor, out.zAAug as tf.Tensor))).dataSync()[0]).toBeGreaterThan(1e-3)
      expectSame(changed.zAInv, out.zAInv)
      expectSame(changed.zAEquiT, out.zAEquiT)
      scaled.get('norm_a_aug.bias')?.dispose()
    })
    expectSame(out.zAAug, projectionHead(params, tiny, 'pred_a_intra', pooledAugWrongNorm)) // norm_a_aug starts equal to norm_a
  })

  it('invariant, inter-only and cenMean=false use mean-pooled tokens where the official baseline does', () => {
    const invariant = forwardPretrain(params, tiny, inputs, 'invariant')
    const interOnly = forwardPretrain(params, tiny, inputs, 'inter-only')
    const baseline = forwardPretrain(params, { ...tiny, cenMean: false }, inputs, 'equiav')
    const pooledA = tf.mean(encodeAudio(params, tiny, inputs.a), 1) as tf.Tensor2D
    const pooledV = tf.mean(encodeVisual(params, tiny, inputs.v), 1) as tf.Tensor2D
    const interA = projectionHead(params, tiny, 'pred_a_inter', pooledA)
    for (const out of [invariant, interOnly, baseline]) {
      expectSame(out.zAInv, interA)
      expectSame(out.zVInv, projectionHead(params, tiny, 'pred_v_inter', pooledV))
    }
    expectSame(invariant.zAEquiT, projectionHead(params, tiny, 'pred_a_intra', pooledA))
    const equiav = forwardPretrain(params, tiny, inputs, 'equiav')
    expectSame(baseline.zAEquiT, equiav.zAEquiT)
  })

  it('no tensor leaks over repeated forward + gradient steps', () => {
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => {
        const out = forwardPretrain(params, tiny, inputs, 'equiav')
        return tf.tidy(() => tf.addN(Object.values(out).map((z) => tf.sum(tf.square(z as tf.Tensor)))) as tf.Scalar)
      })
      expect(Object.keys(grads).length).toBe(paramSpec(tiny).length - 2) // every trainable parameter, not the pos-embeds
      tf.dispose([value, Object.values(grads)])
    }
    step()
    const before = tf.memory().numTensors
    step()
    step()
    expect(tf.memory().numTensors).toBe(before)
  })
})
