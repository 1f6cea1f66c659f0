/**
 * Fine-tuning (official ft_main.py, ../shared/EQUIAV.md §5): the classifier of finetune/model.ts starts
 * from a pretraining run's (or an official checkpoint's) encoders and is trained with AdamW on BCE or CE,
 * optionally with mixup and the official warm-up + cosine schedule, and evaluated after every epoch on a
 * held-out split, on the loop skeleton pretraining uses (train/loop.ts): resume, checkpoints and
 * cancellation work the same way.
 * Not reproduced: drop-path / dropout 0.1 (the engine has neither) and the ×50 head learning rate (the
 * official scheduler overwrites it every step anyway, §8).
 */
import * as tf from '@tensorflow/tfjs'
import { describeBackend, initBackend, type BackendInfo, type RecordedBackend } from '../backend'
import type { ModelConfig } from '../config'
import type { TensorDict } from '../checkpoint/tensors'
import { AdamW } from '../optim'
import { warmupCosineLr } from '../schedule'
import { type ClipSource, derivedRng, stepsPerEpoch } from '../train/data-source'
import { type LoopRow, type LrChange, type RunStore, runTrainingLoop } from '../train/loop'
import { trainableOf } from '../train/step'
import type { Reporter } from '../report'
import { type BatchMode, type ClassifierBatch, classifierBatch, classifierTensors } from './batch'
import { type ClassificationResult, classificationMetrics, classifierScores } from './evaluate'
import { type ClassifierSpec, createClassifierParams, type FinetuneModality, classifierLogits, loadEncoderWeights, type WeightLayout } from './model'
import { classificationLoss, type FinetuneLoss } from './objective'
import type { Params } from '../model'
import type { RawClip } from '../train/synthetic'

import { FINETUNE_LR, type LrSchedule } from '../../../shared/requests'

/** Where the encoders came from: a pretraining run of the workspace (at a step) or a checkpoint file. */
export interface Lineage {
  from: string
  kind: 'run' | 'checkpoint'
  step: number | null
}

export interface PretrainedEncoders {
  lineage: Lineage
  weights: TensorDict
  layout: WeightLayout
}

export interface FinetuneOptions {
  model: ModelConfig
  preset: string
  modality: FinetuneModality
  linearProbe: boolean
  loss: FinetuneLoss
  /** probability that a training sample is mixed (official 0.5); 0 = off */
  mixup: number
  /** roll the training fbank circularly in time (official); default true */
  timeRoll?: boolean
  /** class names, index = label */
  classes: string[]
  steps?: number
  epochs?: number
  batchSize: number
  /** peak learning rate (default FINETUNE_LR); with `resume`, a new value replaces the run's from there on */
  lr?: number
  schedule: LrSchedule
  /** default: one epoch, at most 10% of the steps */
  warmupSteps?: number
  weightDecay: number
  seed: number
  checkpointEvery: number
  /** engine workers the batch is split over (train/parallel/pool.ts); 1 (this thread) when absent */
  workers?: number
  resume: boolean
  data: { kind: 'synthetic'; clips: number } | { kind: 'dataset'; name: string }
}

export interface FinetuneRunConfig
  extends Pick<FinetuneOptions, 'preset' | 'modality' | 'linearProbe' | 'loss' | 'mixup' | 'timeRoll' | 'classes' | 'batchSize' | 'schedule' | 'weightDecay' | 'seed' | 'checkpointEvery'> {
  kind: 'finetune'
  lr: number
  /** `--resume --lr` changes, oldest first */
  lrChanges?: LrChange[]
  run: string
  created: string
  lineage: Lineage
  model: ModelConfig
  totalSteps: number
  stepsPerEpoch: number
  warmupSteps: number
  data: FinetuneOptions['data'] & { describe: string; size: number; evalSplit: string | null; evalDescribe: string | null }
  backend: RecordedBackend
  /** engine workers of the newest session; absent before the option: 1 */
  workers?: number
}

/** A step's loss and learning rate, and after an epoch's end its evaluation. */
type FinetuneStepFields = {
  loss: number
  lr: number
  eval_split?: string
  eval_mAP?: number
  eval_top1?: number
  eval_top5?: number
}

/** A row of a fine-tuning run's metrics.jsonl. */
export type FinetuneMetricsRow = LoopRow<FinetuneStepFields>

export interface FinetuneSummary {
  runDir: string
  startStep: number
  finalStep: number
  cancelled: boolean
  last?: FinetuneMetricsRow
  lastEval?: ClassificationResult
}

export interface FinetuneSources {
  train: ClipSource
  /** the split evaluated after every epoch (val when the dataset has one, else test) */
  eval?: { split: string; source: ClipSource }
}

export function classifierSpecOf(cfg: Pick<FinetuneRunConfig, 'model' | 'modality' | 'classes'>): ClassifierSpec {
  return { model: cfg.model, modality: cfg.modality, classes: cfg.classes.length }
}

async function openFinetuneRun(opts: FinetuneOptions, sources: FinetuneSources, lineage: Lineage, backend: BackendInfo, store: RunStore<FinetuneRunConfig>): Promise<FinetuneRunConfig> {
  const spe = stepsPerEpoch(sources.train.size, opts.batchSize)
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * spe
  return store.openConfig(opts.resume, {
    resumed: (previous) => {
      if (previous.kind !== 'finetune') throw new Error(`${store.dir} is not a fine-tuning run (kind ${String(previous.kind)})`)
      return { ...previous, totalSteps: opts.steps ?? previous.totalSteps, backend, workers: opts.workers ?? 1 }
    },
    fresh: () => ({
      kind: 'finetune',
      run: store.name,
      created: new Date().toISOString(),
      lineage,
      model: opts.model,
      preset: opts.preset,
      modality: opts.modality,
      linearProbe: opts.linearProbe,
      loss: opts.loss,
      mixup: opts.mixup,
      timeRoll: opts.timeRoll ?? true,
      classes: opts.classes,
      totalSteps,
      stepsPerEpoch: spe,
      batchSize: opts.batchSize,
      lr: opts.lr ?? (opts.linearProbe ? FINETUNE_LR.linearProbe : FINETUNE_LR.fineTune),
      schedule: opts.schedule,
      warmupSteps: opts.warmupSteps ?? Math.min(spe, Math.round(totalSteps / 10)),
      weightDecay: opts.weightDecay,
      seed: opts.seed,
      checkpointEvery: opts.checkpointEvery,
      data: {
        ...opts.data,
        describe: sources.train.describe,
        size: sources.train.size,
        evalSplit: sources.eval?.split ?? null,
        evalDescribe: sources.eval?.source.describe ?? null
      },
      backend,
      workers: opts.workers ?? 1
    })
  })
}

/** One optimisation step on clips; returns the loss (no update when it is not finite). */
export function finetuneStep(params: Params, optimizer: AdamW, spec: ClassifierSpec, loss: FinetuneLoss, clips: RawClip[], mode: BatchMode, lr: number): number {
  return classifierStep(params, optimizer, spec, loss, classifierBatch(clips, spec, loss, mode), lr)
}

/** One optimisation step on a collated batch; returns the loss (no update when it is not finite). */
export function classifierStep(params: Params, optimizer: AdamW, spec: ClassifierSpec, loss: FinetuneLoss, batch: ClassifierBatch, lr: number): number {
  const inputs = classifierTensors(batch, spec.model)
  try {
    const { grads, value } = tf.variableGrads(() => classificationLoss(loss, classifierLogits(params, spec, inputs), inputs.targets), trainableOf(params))
    const total = value.dataSync()[0]
    value.dispose()
    const gradMap = new Map(Object.entries(grads))
    if (Number.isFinite(total)) optimizer.step(gradMap, lr)
    gradMap.forEach((g) => g.dispose())
    return total
  } finally {
    tf.dispose([inputs.a, inputs.v, inputs.targets])
  }
}

export async function evaluateClassifier(params: Params, cfg: FinetuneRunConfig, source: ClipSource, onProgress?: (done: number) => void): Promise<ClassificationResult> {
  const scores = await classifierScores(params, classifierSpecOf(cfg), cfg.loss, source.size, (i) => source.clip(i), { onProgress })
  return classificationMetrics(scores, cfg.classes, cfg.loss)
}

function evalFields(split: string, r: ClassificationResult): Partial<FinetuneMetricsRow> {
  return r.mAP !== undefined ? { eval_split: split, eval_mAP: r.mAP } : { eval_split: split, eval_top1: r.top1, eval_top5: r.top5 }
}

export async function runFinetune(opts: FinetuneOptions, pretrained: PretrainedEncoders, sources: FinetuneSources, store: RunStore<FinetuneRunConfig>, reporter: Reporter): Promise<FinetuneSummary> {
  return store.locked(() => finetune(opts, pretrained, sources, store, reporter))
}

async function finetune(opts: FinetuneOptions, pretrained: PretrainedEncoders, sources: FinetuneSources, store: RunStore<FinetuneRunConfig>, reporter: Reporter): Promise<FinetuneSummary> {
  const backend = await initBackend()
  reporter.log(describeBackend(backend))
  const cfg = await openFinetuneRun(opts, sources, pretrained.lineage, backend, store)
  const spec = classifierSpecOf(cfg)
  const params = createClassifierParams(spec, cfg.seed, cfg.linearProbe)
  const loaded = loadEncoderWeights(params, spec, pretrained.weights, pretrained.layout, pretrained.lineage.from)
  reporter.log(`loaded ${loaded.length} encoder tensors from ${pretrained.lineage.from}${cfg.linearProbe ? ' (frozen: linear probe)' : ''}`)
  const optimizer = new AdamW(params, { weightDecay: cfg.weightDecay })
  let lastEval: ClassificationResult | undefined
  const evaluated = async (row: FinetuneMetricsRow, sync: () => Promise<void>): Promise<FinetuneMetricsRow> => {
    if (!sources.eval || (row.step % cfg.stepsPerEpoch !== 0 && row.step !== cfg.totalSteps)) return row
    await sync()
    lastEval = await evaluateClassifier(params, cfg, sources.eval.source)
    return { ...row, ...evalFields(sources.eval.split, lastEval) }
  }
  const summary = await runTrainingLoop<FinetuneRunConfig, FinetuneStepFields, ClassifierBatch, number, number>(
    {
      store,
      source: sources.train,
      params,
      optimizer,
      config: cfg,
      resume: opts.resume,
      lr: opts.lr,
      backend,
      workerModel: { kind: 'classifier', spec, loss: cfg.loss },
      prepare: (clips, step) => classifierBatch(clips, spec, cfg.loss, { train: true, rng: derivedRng(cfg.seed, 'step', step), mixup: cfg.mixup, timeRoll: cfg.timeRoll }),
      settings: (step) => (cfg.schedule === 'constant' ? cfg.lr : warmupCosineLr(step, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.totalSteps })),
      stepHere: (batch, lr) => classifierStep(params, optimizer, spec, cfg.loss, batch, lr),
      stepPooled: (pool, batch, lr) => pool.finetuneStep(batch, lr),
      fields: (loss, lr) => ({ loss, lr }),
      after: evaluated,
      state: () => ({ config: cfg, backend: backend.name }),
      progressFields: (row) => {
        const shown = row.eval_mAP ?? row.eval_top1
        return { loss: row.loss.toFixed(4), ...(shown !== undefined ? { eval: shown.toFixed(3) } : {}) }
      }
    },
    reporter
  )
  return { runDir: store.dir, ...summary, lastEval }
}
