/** The engine's trainers on a run folder of the disk, as the workflows open them. */
import { PRESETS } from '../../src/main/engine/config'
import { DEFAULT_LOSS_WEIGHTS } from '../../src/main/engine/losses'
import type { Reporter } from '../../src/main/engine/report'
import type { RunStore } from '../../src/main/engine/train/loop'
import { type FinetuneOptions, type FinetuneRunConfig, type FinetuneSources, type FinetuneSummary, type PretrainedEncoders, runFinetune } from '../../src/main/engine/finetune/loop'
import { type PretrainOptions, type PretrainSummary, type RunConfig, runPretrain } from '../../src/main/engine/train/pretrain'
import type { ClipSource } from '../../src/main/engine/train/data-source'
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

/** A trainer's options with the run folder they train in and the checkpoints it keeps. */
export type InFolder<O> = O & { runDir: string; keepCheckpoints: number }

/** The settings of PRETRAIN_SETTINGS with the checkpoints a run keeps by default. */
export const PRETRAIN_DEFAULTS = { ...PRETRAIN_SETTINGS, keepCheckpoints: KEEP_CHECKPOINTS }
export const FINETUNE_DEFAULTS = { ...FINETUNE_SETTINGS, linearProbeLr: 1e-3, keepCheckpoints: KEEP_CHECKPOINTS }

/** runPretrain on the run folder `o.runDir`, as the workflow opens it. */
export function pretrainIn(o: InFolder<PretrainOptions>, source: ClipSource, reporter: Reporter): Promise<PretrainSummary> {
  const { runDir, keepCheckpoints, ...opts } = o
  return runPretrain(opts, source, pretrainFolder(runDir, reporter, keepCheckpoints), reporter)
}

/** runFinetune on the run folder `o.runDir`, as the workflow opens it. */
export function finetuneIn(o: InFolder<FinetuneOptions>, pretrained: PretrainedEncoders, sources: FinetuneSources, reporter: Reporter): Promise<FinetuneSummary> {
  const { runDir, keepCheckpoints, ...opts } = o
  return runFinetune(opts, pretrained, sources, finetuneFolder(runDir, reporter, keepCheckpoints), reporter)
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

/** A complete config.json of a finished `tiny` fine-tuning run of r1's encoders on the synthetic task, with `extra` over it. */
export function finetuneConfigFixture(extra: Partial<FinetuneRunConfig> = {}): FinetuneRunConfig {
  const { run, created, model, totalSteps, stepsPerEpoch, warmupSteps, backend } = pretrainConfigFixture()
  return {
    kind: 'finetune',
    run,
    created,
    lineage: { from: 'r1', kind: 'run', step: null },
    model,
    preset: 'tiny',
    modality: 'audio-visual',
    linearProbe: false,
    mixup: 0,
    timeRoll: true,
    classes: ['one', 'two'],
    totalSteps,
    stepsPerEpoch,
    warmupSteps,
    ...FINETUNE_SETTINGS,
    data: { kind: 'synthetic', clips: 256, describe: 'synthetic', size: 256, evalSplit: null, evalDescribe: null },
    backend,
    ...extra
  }
}
