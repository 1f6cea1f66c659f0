/** Reopening a finished (or stopped) run: its config and the parameters of its newest checkpoint. */
import { assignFrom } from '../engine/checkpoint/params'
import { type FinetuneRunConfig, classifierSpecOf } from '../engine/finetune/loop'
import { createClassifierParams } from '../engine/finetune/model'
import { createParams, type Params } from '../engine/model'
import type { RunConfig } from '../engine/train/pretrain'
import { loadLatestCheckpoint } from './checkpoints'
import { readFinetuneConfig, readPretrainConfig } from './config'

async function withLatestWeights<C>(runDir: string, config: C, params: Params): Promise<{ config: C; params: Params; step: number }> {
  const ckpt = await loadLatestCheckpoint(runDir)
  if (!ckpt) {
    params.forEach((v) => v.dispose())
    throw new Error(`${runDir}: the run has no checkpoint yet`)
  }
  assignFrom(params, ckpt.weights, ckpt.dir)
  return { config, params, step: ckpt.step }
}

/** A pretraining run's config and encoders. */
export async function loadRun(runDir: string): Promise<{ config: RunConfig; params: Params; step: number }> {
  const config = await readPretrainConfig(runDir)
  return withLatestWeights(runDir, config, createParams(config.model, config.seed))
}

/** A fine-tuning run's config and classifier. */
export async function loadFinetuneRun(runDir: string): Promise<{ config: FinetuneRunConfig; params: Params; step: number }> {
  const config = await readFinetuneConfig(runDir)
  return withLatestWeights(runDir, config, createClassifierParams(classifierSpecOf(config), config.seed, config.linearProbe))
}
