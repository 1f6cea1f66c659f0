/**
 * Fine-tuning (official ft_main.py, ../shared/EQUIAV.md §5): the classifier of finetune/model.ts starts
 * from a pretraining run's (or an official checkpoint's) encoders and is trained with AdamW on BCE or CE,
 * optionally with mixup and the official warm-up + cosine schedule, and evaluated after every epoch on a
 * held-out split. The run folder, its checkpoints, resume and cancellation work as for pretraining.
 * Not reproduced: drop-path / dropout 0.1 (the engine has neither) and the ×50 head learning rate (the
 * official scheduler overwrites it every step anyway, §8).
 */
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describeBackend, initBackend, type BackendInfo } from '../backend'
import { type ModelConfig, withInputNorm } from '../config'
import { KEEP_CHECKPOINTS, saveCheckpoint } from '../checkpoint/store'
import type { TensorDict } from '../checkpoint/tensors'
import { AdamW } from '../optim'
import { warmupCosineLr } from '../schedule'
import { type ClipSource, derivedRng, stepsPerEpoch } from '../train/data-source'
import { toTensorDict } from '../train/run'
import { type LrChange, applyResumedLr, fetchClips, guardStopError, openRunConfig, refuseNonFinite, resumeFromLatest, withRunLock } from '../train/run-folder'
import { GUARD_DEFAULTS, TrainingGuard } from '../train/guard'
import { paramHealth } from '../train/param-health'
import { startStepper } from '../train/parallel/stepper'
import { trainableOf } from '../train/step'
import { appendLine } from '../../util/atomic'
import type { JobContext } from '../../jobs/context'
import { type BatchMode, type ClassifierBatch, classifierBatch, classifierTensors } from './batch'
import { type ClassificationResult, classificationMetrics, classifierScores } from './evaluate'
import { type ClassifierSpec, createClassifierParams, type FinetuneModality, classifierLogits, loadEncoderWeights, type WeightLayout } from './model'
import { classificationLoss, type FinetuneLoss } from './objective'
import type { Params } from '../model'
import type { RawClip } from '../train/synthetic'

export type LrSchedule = 'warmup-cosine' | 'constant'

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
  runDir: string
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
  /** peak learning rate (default 1e-4, 1e-3 for a linear probe); with `resume`, a new value replaces the run's from there on */
  lr?: number
  schedule: LrSchedule
  /** default: one epoch, at most 10% of the steps */
  warmupSteps?: number
  weightDecay: number
  seed: number
  checkpointEvery: number
  /** newest checkpoints kept on disk (0: all) */
  keepCheckpoints: number
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
  backend: BackendInfo
  /** engine workers of the newest session; absent before the option: 1 */
  workers?: number
}

export interface FinetuneMetricsRow {
  step: number
  epoch: number
  loss: number
  lr: number
  clips_per_s: number
  time: string
  eval_split?: string
  eval_mAP?: number
  eval_top1?: number
  eval_top5?: number
}

export interface FinetuneSummary {
  runDir: string
  startStep: number
  finalStep: number
  cancelled: boolean
  last?: FinetuneMetricsRow
  lastEval?: ClassificationResult
}

export const FINETUNE_DEFAULTS = {
  loss: 'bce' as FinetuneLoss,
  batchSize: 16,
  lr: 1e-4,
  linearProbeLr: 1e-3,
  weightDecay: 1e-5,
  schedule: 'warmup-cosine' as LrSchedule,
  seed: 0,
  checkpointEvery: 100,
  keepCheckpoints: KEEP_CHECKPOINTS
}

export interface FinetuneSources {
  train: ClipSource
  /** the split evaluated after every epoch (val when the dataset has one, else test) */
  eval?: { split: string; source: ClipSource }
}

export function classifierSpecOf(cfg: Pick<FinetuneRunConfig, 'model' | 'modality' | 'classes'>): ClassifierSpec {
  return { model: cfg.model, modality: cfg.modality, classes: cfg.classes.length }
}

async function openFinetuneRun(opts: FinetuneOptions, sources: FinetuneSources, lineage: Lineage, backend: BackendInfo, ctx: JobContext): Promise<FinetuneRunConfig> {
  const spe = stepsPerEpoch(sources.train.size, opts.batchSize)
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * spe
  return openRunConfig<FinetuneRunConfig>(opts.runDir, opts.resume, ctx, {
    resumed: (previous) => {
      if (previous.kind !== 'finetune') throw new Error(`${opts.runDir} is not a fine-tuning run (kind ${String(previous.kind)})`)
      return { ...previous, model: withInputNorm(previous.model), totalSteps: opts.steps ?? previous.totalSteps, backend, workers: opts.workers ?? 1 }
    },
    fresh: () => ({
      kind: 'finetune',
      run: opts.runDir.split(/[\\/]/).pop() ?? opts.runDir,
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
      lr: opts.lr ?? (opts.linearProbe ? FINETUNE_DEFAULTS.linearProbeLr : FINETUNE_DEFAULTS.lr),
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

export async function runFinetune(opts: FinetuneOptions, pretrained: PretrainedEncoders, sources: FinetuneSources, ctx: JobContext): Promise<FinetuneSummary> {
  return withRunLock(opts.runDir, ctx, () => finetune(opts, pretrained, sources, ctx))
}

async function finetune(opts: FinetuneOptions, pretrained: PretrainedEncoders, sources: FinetuneSources, ctx: JobContext): Promise<FinetuneSummary> {
  const backend = await initBackend()
  ctx.log(describeBackend(backend))
  const cfg = await openFinetuneRun(opts, sources, pretrained.lineage, backend, ctx)
  const spec = classifierSpecOf(cfg)
  const params = createClassifierParams(spec, cfg.seed, cfg.linearProbe)
  const loaded = loadEncoderWeights(params, spec, pretrained.weights, pretrained.layout, pretrained.lineage.from)
  ctx.log(`loaded ${loaded.length} encoder tensors from ${pretrained.lineage.from}${cfg.linearProbe ? ' (frozen: linear probe)' : ''}`)
  const optimizer = new AdamW(params, { weightDecay: cfg.weightDecay })
  const metricsPath = join(opts.runDir, 'metrics.jsonl')
  const startStep = opts.resume ? await resumeFromLatest(opts.runDir, params, optimizer, metricsPath, ctx) : 0
  if (opts.resume) await applyResumedLr(opts.runDir, cfg, opts.lr, startStep, ctx)
  let step = startStep
  let epoch = 0
  const stepper = await startStepper<ClassifierBatch, number, number>(
    { workers: startStep < cfg.totalSteps ? (cfg.workers ?? 1) : 1, backend, model: { kind: 'classifier', spec, loss: cfg.loss }, params, optimizer },
    (batch, lr) => classifierStep(params, optimizer, spec, cfg.loss, batch, lr),
    (pool, batch, lr) => pool.finetuneStep(batch, lr)
  )
  if (stepper.workers > 1) ctx.log(`steps run on ${stepper.workers} engine workers`)
  const guard = new TrainingGuard(GUARD_DEFAULTS, paramHealth(params))
  const checkpoint = async (): Promise<void> => {
    await stepper.sync()
    await refuseNonFinite(opts.runDir, params, step)
    await saveCheckpoint(opts.runDir, step, {
      weights: toTensorDict(params),
      optimizer: optimizer.exportState(),
      state: { step, epoch, config: cfg, backend: backend.name, time: new Date().toISOString() }
    }, opts.keepCheckpoints)
  }

  let last: FinetuneMetricsRow | undefined
  let lastEval: ClassificationResult | undefined
  // the next step's clips are read and collated while this one computes
  const prepare = async (s: number): Promise<{ epoch: number; batch: ClassifierBatch }> => {
    const fetched = await fetchClips(sources.train, s, cfg.batchSize, cfg.seed)
    const mode: BatchMode = { train: true, rng: derivedRng(cfg.seed, 'step', s), mixup: cfg.mixup, timeRoll: cfg.timeRoll }
    return { epoch: fetched.epoch, batch: classifierBatch(fetched.clips, spec, cfg.loss, mode) }
  }
  let prefetched: Promise<{ epoch: number; batch: ClassifierBatch }> | null = null
  try {
    while (step < cfg.totalSteps && !ctx.signal.aborted) {
      const t0 = performance.now()
      const prepared = await (prefetched ?? prepare(step))
      prefetched = step + 1 < cfg.totalSteps ? prepare(step + 1) : null
      epoch = prepared.epoch
      const lr = cfg.schedule === 'constant' ? cfg.lr : warmupCosineLr(step, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.totalSteps })
      const loss = await stepper.step(prepared.batch, lr)
      const verdict = guard.check({ step: step + 1, loss, params: stepper.health() })
      if (verdict.action === 'stop') throw await guardStopError(opts.runDir, `${verdict.reason} (lr ${lr.toExponential(2)})`)
      step++
      last = { step, epoch, loss, lr, clips_per_s: cfg.batchSize / ((performance.now() - t0) / 1000), time: new Date().toISOString() }
      if (sources.eval && (step % cfg.stepsPerEpoch === 0 || step === cfg.totalSteps)) {
        await stepper.sync()
        lastEval = await evaluateClassifier(params, cfg, sources.eval.source)
        last = { ...last, ...evalFields(sources.eval.split, lastEval) }
      }
      await appendLine(metricsPath, JSON.stringify(last))
      ctx.metrics({ ...last })
      const shown = last.eval_mAP ?? last.eval_top1
      ctx.progress({ done: step, total: cfg.totalSteps, unit: 'step', fields: { loss: loss.toFixed(4), ...(shown !== undefined ? { eval: shown.toFixed(3) } : {}) } })
      if (step % cfg.checkpointEvery === 0 || step === cfg.totalSteps) await checkpoint()
    }
    const cancelled = step < cfg.totalSteps
    if (cancelled && step > startStep && step % cfg.checkpointEvery !== 0) await checkpoint()
    return { runDir: opts.runDir, startStep, finalStep: step, cancelled, last, lastEval }
  } finally {
    await prefetched?.catch(() => undefined) // a cancelled or failed run's read-ahead is not needed
    await stepper.close()
    params.forEach((v) => v.dispose())
    optimizer.dispose()
  }
}
