/**
 * The engine and the PyTorch trainer (python/) on one checkpoint and one batch: the same losses within 1e-4,
 * and for the same (seed, step) the trainer draws the same augmentation vectors and builds the same views.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/main/engine/config'
import { saveCheckpoint } from '../../src/main/engine/checkpoint/store'
import { serializeSafetensors } from '../../src/main/engine/checkpoint/safetensors'
import type { TensorDict } from '../../src/main/engine/checkpoint/tensors'
import { equiavLoss } from '../../src/main/engine/losses'
import { createParams, disposeParams, forwardPretrain } from '../../src/main/engine/model'
import { AdamW } from '../../src/main/engine/optim'
import { derivedRng } from '../../src/main/engine/train/data-source'
import { PRETRAIN_DEFAULTS } from '../../src/main/engine/train/pretrain'
import { toTensorDict } from '../../src/main/engine/train/run'
import { batchTensors } from '../../src/main/engine/train/step'
import { syntheticClip } from '../../src/main/engine/train/synthetic'
import { collateBatch } from '../../src/main/engine/train/views'
import { PYTHON_DIR, pythonSuiteMode, torchPython } from '../helpers/python'
import { useTestBackend } from '../helpers/tf'

const python = torchPython()
const mode = pythonSuiteMode(python, 'the engine ↔ PyTorch trainer check')
const dir = mkdtempSync(join(tmpdir(), 'equiav-pt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const model = PRESETS.tiny
const seed = 7
const step = 3
const B = 4

describe.skipIf(mode === 'skip')('engine and PyTorch trainer on one checkpoint and one batch', () => {
  beforeAll(useTestBackend)

  for (const objective of ['equiav', 'invariant'] as const) {
    it(`${objective}: the same losses within 1e-4, the same augmentation vectors and views`, async () => {
      const params = createParams(model, seed)
      const runDir = join(dir, objective)
      const config = { model, objective, seed, tau: PRETRAIN_DEFAULTS.tau, lossWeights: PRETRAIN_DEFAULTS.lossWeights, timeRoll: true }
      const optimizer = new AdamW(params)
      const saved = await saveCheckpoint(runDir, 0, { weights: toTensorDict(params), optimizer: optimizer.exportState(), state: { step: 0, config } })
      optimizer.dispose()

      const clips = Array.from({ length: B }, (_, i) => syntheticClip(i, seed, model))
      const batch = collateBatch(clips, derivedRng(seed, 'step', step), model, true)
      const inputs = batchTensors(batch, model)
      const loss = equiavLoss(forwardPretrain(params, model, inputs, objective), PRETRAIN_DEFAULTS.lossWeights, PRETRAIN_DEFAULTS.tau)
      const engine = { total: loss.total.dataSync()[0], inter: loss.inter.dataSync()[0], intra_a: loss.intraA.dataSync()[0], intra_v: loss.intraV.dataSync()[0] }

      const file: TensorDict = new Map()
      const keys = { a: 'a', v: 'v', a_aug: 'aAug', v_aug: 'vAug', t_a: 'tA', t_v: 'tV', t_a_list: 'tAList', t_v_list: 'tVList' } as const
      for (const [name, key] of Object.entries(keys)) {
        const t = inputs[key]
        file.set(name, { shape: t.shape, dtype: 'F32', data: t.dataSync() as Float32Array })
      }
      file.set('step', { shape: [1], dtype: 'F32', data: Float32Array.of(step) })
      clips.forEach((c, i) => {
        file.set(`fbank.${i}`, { shape: [model.audioLength, model.numMelBins], dtype: 'F32', data: c.fbank })
        const frames = new Float32Array(c.frames.length * c.frames[0].length)
        c.frames.forEach((f, k) => frames.set(f, k * f.length))
        file.set(`frames.${i}`, { shape: [c.frames.length, 3, model.imgSize, model.imgSize], dtype: 'F32', data: frames })
      })
      const batchPath = join(runDir, 'batch.safetensors')
      writeFileSync(batchPath, serializeSafetensors(file))
      tf.dispose([Object.values(inputs), loss.total, loss.inter, loss.intraA, loss.intraV])
      disposeParams(params)

      const r = spawnSync(python as string, [join(PYTHON_DIR, 'tests', 'engine_crosscheck.py'), saved.dir, batchPath], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      const got = JSON.parse(r.stdout) as { losses: Record<string, number>; view_max_abs_diff: Record<string, number> }
      for (const [name, value] of Object.entries(engine)) expect(Math.abs(got.losses[name] - value), `loss ${name}`).toBeLessThan(1e-4)
      expect(engine.intra_a, 'the check covers the intra-modal terms').toBeGreaterThan(0)
      for (const name of ['t_a', 't_v', 't_a_list', 't_v_list', 'a', 'v']) expect(got.view_max_abs_diff[name], name).toBeLessThan(1e-6)
      for (const name of ['a_aug', 'v_aug']) expect(got.view_max_abs_diff[name], name).toBeLessThan(1e-4)
    })
  }
})
