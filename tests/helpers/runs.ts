/** The engine's trainers on a run folder of the disk, as the workflows open them. */
import { PRESETS } from '../../src/main/engine/config'
import { DEFAULT_LOSS_WEIGHTS } from '../../src/main/engine/losses'
import type { Reporter } from '../../src/main/engine/report'
import type { RunStore } from '../../src/main/engine/train/loop'
import type { FinetuneRunConfig } from '../../src/main/engine/finetune/loop'
import type { RunConfig } from '../../src/main/engine/train/pretrain'
import { FinetuneConfigSchema, PretrainConfigSchema } from '../../src/main/runs/config'
import { openRunFolder } from '../../src/main/runs/run-folder'
import { DEFAULT_TAU, KEEP_CHECKPOINTS, WEIGHT_DECAY } from '../../src/shared/requests'

/** The settings a pretraining request leaves at their defaults. */
export const PRETRAIN_SETTINGS = {
  objective: 'equiav' as const,
  batchSize: 16,
  lr: 1e-4,
  weightDecay: WEIGHT_DECAY,
  clipNorm: 0.01,
  tau: DEFAULT_TAU,
  lossWeights: DEFAULT_LOSS_WEIGHTS,
  seed: 0,
  checkpointEvery: 100
}

export const FINETUNE_SETTINGS = {
  loss: 'bce' as const,
  batchSize: 16,
  lr: 1e-4,
  weightDecay: WEIGHT_DECAY,
  schedule: 'warmup-cosine' as const,
  seed: 0,
  checkpointEvery: 100
}

export function pretrainFolder(dir: string, reporter: Reporter, keepCheckpoints = KEEP_CHECKPOINTS): RunStore<RunConfig> {
  return openRunFolder(dir, { schema: PretrainConfigSchema, keepCheckpoints, log: (line) => reporter.log(line) })
}

export function finetuneFolder(dir: string, reporter: Reporter, keepCheckpoints = KEEP_CHECKPOINTS): RunStore<FinetuneRunConfig> {
  return openRunFolder(dir, { schema: FinetuneConfigSchema, keepCheckpoints, log: (line) => reporter.log(line) })
}

/** A complete config.json of a finished `tiny` pretraining run on the synthetic task, with `extra` over it. */
export function pretrainConfigFixture(extra: Partial<RunConfig> = {}): RunConfig {
  return {
    run: 'r1',
    created: '2026-01-01T00:00:00.000Z',
    model: PRESETS.tiny,
    preset: 'tiny',
    objective: 'equiav',
    totalSteps: 10,
    stepsPerEpoch: 16,
    warmupSteps: 1,
    batchSize: 16,
    lr: 2e-4,
    weightDecay: WEIGHT_DECAY,
    clipNorm: 0.01,
    tau: DEFAULT_TAU,
    lossWeights: DEFAULT_LOSS_WEIGHTS,
    timeRoll: true,
    seed: 0,
    checkpointEvery: 100,
    data: { kind: 'synthetic', clips: 256, describe: 'synthetic', size: 256 },
    backend: { name: 'wasm', tfBackend: 'wasm', reason: 'wasm', simd: true, threads: 1 },
    ...extra
  }
}
