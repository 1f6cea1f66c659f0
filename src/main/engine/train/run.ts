/** Moving parameters between the engine and checkpoints, and reopening a finished run. */
import { withInputNorm } from '../config'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { loadLatestCheckpoint } from '../checkpoint/store'
import type { TensorDict } from '../checkpoint/tensors'
import { createParams, type Params } from '../model'
import type { RunConfig } from './pretrain'

export function toTensorDict(params: Params): TensorDict {
  const out: TensorDict = new Map()
  for (const [name, v] of params) out.set(name, { shape: v.shape, dtype: 'F32', data: v.dataSync() as Float32Array })
  return out
}

export function assignFrom(params: Params, dict: TensorDict, source: string): void {
  for (const [name, v] of params) {
    const t = dict.get(name)
    if (!t) throw new Error(`${source}: checkpoint has no tensor ${name}`)
    if (t.shape.join(',') !== v.shape.join(',')) {
      throw new Error(`${source}: ${name} has shape [${t.shape}] but the model expects [${v.shape}]`)
    }
    v.assign(tf.tensor(t.data, v.shape))
  }
}

/** A run's config and the weights of its newest checkpoint. */
export async function loadRun(runDir: string): Promise<{ config: RunConfig; params: Params; step: number }> {
  const configPath = join(runDir, 'config.json')
  if (!existsSync(configPath)) throw new Error(`${runDir}: not a run folder (no config.json)`)
  const saved = JSON.parse(await readFile(configPath, 'utf8')) as RunConfig
  const config: RunConfig = { ...saved, model: withInputNorm(saved.model) }
  const ckpt = await loadLatestCheckpoint(runDir)
  if (!ckpt) throw new Error(`${runDir}: the run has no checkpoint yet`)
  const params = createParams(config.model, config.seed)
  assignFrom(params, ckpt.weights, ckpt.dir)
  return { config, params, step: (ckpt.state as { step: number }).step }
}
