/** Reopening a finished (or stopped) fine-tuning run: its config and the classifier of its newest checkpoint. */
import { withInputNorm } from '../config'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadLatestCheckpoint } from '../checkpoint/store'
import type { Params } from '../model'
import { assignFrom } from '../train/run'
import { type FinetuneRunConfig, classifierSpecOf } from './loop'
import { createClassifierParams } from './model'

export async function loadFinetuneRun(runDir: string): Promise<{ config: FinetuneRunConfig; params: Params; step: number }> {
  const configPath = join(runDir, 'config.json')
  if (!existsSync(configPath)) throw new Error(`${runDir}: not a run folder (no config.json)`)
  const saved = JSON.parse(await readFile(configPath, 'utf8')) as FinetuneRunConfig
  const config: FinetuneRunConfig = { ...saved, model: withInputNorm(saved.model) }
  if (config.kind !== 'finetune') throw new Error(`${configPath}: not a fine-tuning run (run equiav finetune first; pretraining runs are evaluated with eval retrieval / eval probe)`)
  const ckpt = await loadLatestCheckpoint(runDir)
  if (!ckpt) throw new Error(`${runDir}: the run has no checkpoint yet`)
  const params = createClassifierParams(classifierSpecOf(config), config.seed, config.linearProbe)
  assignFrom(params, ckpt.weights, ckpt.dir)
  return { config, params, step: (ckpt.state as { step: number }).step }
}
