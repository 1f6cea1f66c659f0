/**
 * Parity against the golden fixture produced by the official PyTorch MainModel (tests/fixtures/equiav-parity):
 * same weights, same inputs → same six embeddings, losses and gradients.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigFromFixture, paramsFromOfficial, toOfficialLayout } from '../../src/main/engine/checkpoint/official'
import { readPth } from '../../src/main/data/checkpoint-files'
import { readSafetensors } from '../../src/main/data/checkpoint-files'
import { equiavLoss } from '../../src/main/engine/losses'
import type { TensorDict } from '../../src/main/engine/checkpoint/tensors'
import type { ModelConfig } from '../../src/main/engine/config'
import { type PretrainInputs, forwardPretrain } from '../../src/main/engine/model/equiav'
import { type Params, disposeParams, paramSpec } from '../../src/main/engine/model/params'
import type { LossWeights, PretrainOutputs } from '../../src/main/engine/types'
import { parityFixtureDir } from '../helpers/fixtures'
import { useTestBackend } from '../helpers/tf'

const dir = parityFixtureDir()
const fixture = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as {
  tau: number
  loss_weights: { inter: number; intra_a: number; intra_v: number }
  grads: string[]
}
const config: ModelConfig = modelConfigFromFixture(fixture)

const OUTPUTS: Array<[string, keyof PretrainOutputs]> = [
  ['z_a_inv', 'zAInv'],
  ['z_v_inv', 'zVInv'],
  ['z_a_equi_t', 'zAEquiT'],
  ['z_v_equi_t', 'zVEquiT'],
  ['z_a_aug', 'zAAug'],
  ['z_v_aug', 'zVAug']
]

let io: TensorDict
let params: Params

function host(name: string): { shape: number[]; data: Float32Array } {
  const t = io.get(name)
  if (!t) throw new Error(`io.safetensors has no ${name}`)
  return t
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

function inputs(): PretrainInputs {
  const t = <T extends tf.Tensor>(name: string): T => tf.tensor(host(`input.${name}`).data, host(`input.${name}`).shape) as T
  return {
    a: t('a'), v: t('v'), aAug: t('a_aug'), vAug: t('v_aug'),
    tA: t('t_a'), tV: t('t_v'), tAList: t('t_a_list'), tVList: t('t_v_list')
  }
}

function expectOutputsMatch(p: Params): void {
  const x = inputs()
  const out = forwardPretrain(p, config, x, 'equiav')
  for (const [fixtureName, key] of OUTPUTS) {
    const ours = out[key]
    if (!ours) throw new Error(`forwardPretrain gave no ${key}`)
    const want = host(`output.${fixtureName}`)
    expect(ours.shape, fixtureName).toEqual(want.shape)
    expect(maxAbsDiff(ours.dataSync() as Float32Array, want.data), fixtureName).toBeLessThan(1e-4)
  }
  tf.dispose([Object.values(x), Object.values(out)])
}

describe('EquiAV model parity with the official PyTorch MainModel', () => {
  beforeAll(async () => {
    await useTestBackend()
    io = await readSafetensors(join(dir, 'io.safetensors'))
    params = paramsFromOfficial(await readSafetensors(join(dir, 'weights.safetensors')), config)
  })

  it('fixture sizes reach the model (batch, S, token grids)', () => {
    expect(host('input.a').shape).toEqual([(fixture as unknown as { batch: number }).batch, 3, config.audioLength, config.numMelBins])
    expect(host('input.t_a_list').shape[1]).toBe(config.cenNum)
    expect(params.get('pos_embed_a')?.shape).toEqual([1, (config.audioLength / 16) * (config.numMelBins / 16), config.embedDim])
  })

  it('forwardPretrain reproduces all six embeddings within 1e-4', () => {
    expectOutputsMatch(params)
  })

  it('losses and loss.total gradients match', () => {
    const weights: LossWeights = { inter: fixture.loss_weights.inter, intraA: fixture.loss_weights.intra_a, intraV: fixture.loss_weights.intra_v }
    const x = inputs()
    let terms: Record<string, number> = {}
    const { value, grads } = tf.variableGrads(() => {
      const loss = equiavLoss(forwardPretrain(params, config, x, 'equiav'), weights, fixture.tau)
      terms = { inter: loss.inter.dataSync()[0], intra_a: loss.intraA.dataSync()[0], intra_v: loss.intraV.dataSync()[0] }
      return loss.total
    })
    terms.total = value.dataSync()[0]
    for (const [name, got] of Object.entries(terms)) expect(Math.abs(got - host(`loss.${name}`).data[0]), `loss.${name}`).toBeLessThan(1e-4)

    const specs = new Map(paramSpec(config).map((s) => [s.name, s]))
    expect(fixture.grads.length).toBeGreaterThan(0)
    for (const gradName of fixture.grads) {
      const name = gradName.replace(/^grad\./, '')
      const spec = specs.get(name)
      const variable = params.get(name)
      if (!spec || !variable) throw new Error(`no parameter for ${gradName}`)
      const ours = toOfficialLayout(spec, grads[variable.name].dataSync() as Float32Array)
      const want = host(gradName)
      const scale = want.data.reduce((m, g) => Math.max(m, Math.abs(g)), 0)
      expect(scale, `${gradName} is all zero in the fixture`).toBeGreaterThan(0)
      expect(maxAbsDiff(ours, want.data) / scale, gradName).toBeLessThan(1e-4)
    }
    tf.dispose([value, Object.values(grads), Object.values(x)])
  })

  it('the official .pth checkpoint gives the same outputs', async () => {
    const fromPth = paramsFromOfficial(await readPth(join(dir, 'checkpoint.pth')), config)
    expectOutputsMatch(fromPth)
    disposeParams(fromPth)
  })
})
