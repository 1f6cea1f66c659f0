/**
 * EquiAV pretraining: the loop, its metrics log and its checkpoints.
 * Runs identically in the CLI and in an engine process; everything it reports goes through JobContext.
 */
import { join } from 'node:path'
import { describeBackend, initBackend, type BackendInfo } from '../backend'
import { type ModelConfig, PRESETS, type PresetName, withInputNorm } from '../config'
import type { LossWeights, Objective } from '../types'
import type { EquiAVBatch } from '../batch'
import { createParams, type Modality, type Params } from '../model'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../losses'
import { AdamW } from '../optim'
import { warmupCosineLr } from '../schedule'
import { KEEP_CHECKPOINTS, saveCheckpoint } from '../checkpoint/store'
import { type EncoderLayout, loadEncoders } from '../checkpoint/encoders'
import type { TensorDict } from '../checkpoint/tensors'
import { toTensorDict } from './run'
import { appendLine, writeJsonAtomic } from '../../util/atomic'
import type { JobContext } from '../../jobs/context'
import { type ClipSource, derivedRng, stepsPerEpoch } from './data-source'
import { type LrChange, applyResumedLr, fetchClips, guardStopError, openRunConfig, refuseNonFinite, resumeFromLatest, withRunLock } from './run-folder'
import { GUARD_DEFAULTS, type GuardSettings, TrainingGuard } from './guard'
import { paramHealth } from './param-health'
import { collateBatch } from './views'
import { batchTensors, type StepResult, type StepSettings, trainStep } from './step'
import { startStepper } from './parallel/stepper'

export interface PretrainOptions {
  /** absolute run folder: <workspace>/runs/<name> */
  runDir: string
  preset: PresetName
  /** overrides on the preset, e.g. { cenNum: 4 } */
  model?: Partial<ModelConfig>
  objective: Objective
  /** total optimisation steps (wins over epochs) */
  steps?: number
  epochs?: number
  batchSize: number
  /** peak learning rate (default: 5e-4 for tiny, else 1e-4); with `resume`, a new value replaces the run's from there on */
  lr?: number
  /** what stops a run (divergence, explosion, collapse); default GUARD_DEFAULTS */
  guard?: GuardSettings
  /** default: 10% of the steps, like the official 2 of 20 epochs */
  warmupSteps?: number
  weightDecay: number
  /** global gradient-norm clip (official: 0.01) */
  clipNorm: number
  tau: number
  lossWeights: LossWeights
  /** circularly roll the original audio in time (official `noise=True`); default true */
  timeRoll?: boolean
  seed: number
  checkpointEvery: number
  /** newest checkpoints kept on disk (0: all); each holds the weights and AdamW's moments */
  keepCheckpoints: number
  /** engine workers the batch is split over (parallel/pool.ts); 1 (this thread) when absent */
  workers?: number
  resume: boolean
  /** describes the data for config.json; the clips themselves come from `source` */
  data: { kind: 'synthetic'; clips: number } | { kind: 'dataset'; name: string }
  /**
   * Pretrained encoders to start from (the official --audio_pretrained_encoder / --visual_pretrained_encoder;
   * ImageNet MAE in the paper). Applied when the run starts at step 0, never over a checkpoint.
   */
  init?: { weights: TensorDict; layout: EncoderLayout; from: string; modalities: Modality[] }
}

/** What config.json records of the pretrained encoders a run started from. */
export interface EncoderInit {
  from: string
  layout: EncoderLayout
  modalities: Modality[]
  /** parameters copied */
  tensors: number
}

/** config.json of a run: the options as resolved at its start, plus what they imply. */
export interface RunConfig
  extends Pick<PretrainOptions, 'preset' | 'objective' | 'batchSize' | 'weightDecay' | 'clipNorm' | 'tau' | 'lossWeights' | 'seed' | 'checkpointEvery'> {
  run: string
  lr: number
  /** `--resume --lr` changes, oldest first */
  lrChanges?: LrChange[]
  created: string
  model: ModelConfig
  totalSteps: number
  stepsPerEpoch: number
  warmupSteps: number
  data: PretrainOptions['data'] & { describe: string; size: number }
  backend: BackendInfo
  init?: EncoderInit
  /** absent in runs made before the option: those rolled */
  timeRoll?: boolean
  /** engine workers of the newest session (a resumed run may use another number); absent before the option: 1 */
  workers?: number
}

export interface MetricsRow {
  step: number
  epoch: number
  loss: number
  loss_inter: number
  loss_intra_a: number
  loss_intra_v: number
  lr: number
  grad_norm: number
  /** mean cosine between different clips' inter-modal embeddings in the batch: 1 = collapsed */
  spread_a?: number
  spread_v?: number
  clips_per_s: number
  time: string
}

export interface PretrainSummary {
  runDir: string
  startStep: number
  finalStep: number
  cancelled: boolean
  last?: MetricsRow
}

export const PRETRAIN_DEFAULTS = {
  objective: 'equiav' as Objective,
  batchSize: 16,
  lr: 1e-4,
  weightDecay: 1e-5,
  clipNorm: 0.01,
  tau: DEFAULT_TAU,
  lossWeights: DEFAULT_LOSS_WEIGHTS,
  seed: 0,
  checkpointEvery: 100,
  keepCheckpoints: KEEP_CHECKPOINTS
}

/** The peak learning rate of a new run when none is given. */
export function defaultLr(preset: PresetName): number {
  return preset === 'tiny' ? 5e-4 : PRETRAIN_DEFAULTS.lr
}

/** config.json of a new run: the options resolved against the data (`equiav cluster export` writes the same). */
export function newRunConfig(opts: PretrainOptions, data: { size: number; describe: string }, backend: BackendInfo): RunConfig {
  const spe = stepsPerEpoch(data.size, opts.batchSize)
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * spe
  return {
    run: opts.runDir.split(/[\\/]/).pop() ?? opts.runDir,
    created: new Date().toISOString(),
    model: { ...PRESETS[opts.preset], ...opts.model },
    preset: opts.preset,
    objective: opts.objective,
    totalSteps,
    stepsPerEpoch: spe,
    batchSize: opts.batchSize,
    lr: opts.lr ?? defaultLr(opts.preset),
    warmupSteps: opts.warmupSteps ?? Math.round(totalSteps / 10),
    weightDecay: opts.weightDecay,
    clipNorm: opts.clipNorm,
    tau: opts.tau,
    lossWeights: opts.lossWeights,
    timeRoll: opts.timeRoll ?? true,
    seed: opts.seed,
    checkpointEvery: opts.checkpointEvery,
    data: { ...opts.data, describe: data.describe, size: data.size },
    backend
  }
}

/** Start a new run folder, or reopen one with --resume. */
async function openRun(opts: PretrainOptions, source: ClipSource, backend: BackendInfo, ctx: JobContext): Promise<RunConfig> {
  return openRunConfig<RunConfig>(opts.runDir, opts.resume, ctx, {
    // a resumed run keeps its model and data; only the step budget may grow
    resumed: (previous) => ({ ...previous, model: withInputNorm(previous.model), totalSteps: opts.steps ?? previous.totalSteps, backend, workers: opts.workers ?? 1 }),
    fresh: () => ({ ...newRunConfig(opts, source, backend), workers: opts.workers ?? 1 })
  })
}

async function startFromPretrained(init: NonNullable<PretrainOptions['init']>, params: Params, cfg: RunConfig, dir: string, ctx: JobContext): Promise<void> {
  const loaded = loadEncoders(params, cfg.model, init.modalities, init.weights, init.layout, init.from)
  cfg.init = { from: init.from, layout: init.layout, modalities: init.modalities, tensors: loaded.length }
  await writeJsonAtomic(join(dir, 'config.json'), cfg)
  ctx.log(`encoders ${init.modalities.join(', ')} start from ${init.from} (${init.layout} layout, ${loaded.length} tensors)`)
}

export async function runPretrain(opts: PretrainOptions, source: ClipSource, ctx: JobContext): Promise<PretrainSummary> {
  return withRunLock(opts.runDir, ctx, () => train(opts, source, ctx))
}

async function train(opts: PretrainOptions, source: ClipSource, ctx: JobContext): Promise<PretrainSummary> {
  const backend = await initBackend()
  ctx.log(describeBackend(backend))
  const cfg = await openRun(opts, source, backend, ctx)
  const c = cfg.model
  const params = createParams(c, cfg.seed)
  const optimizer = new AdamW(params, { weightDecay: cfg.weightDecay })
  const metricsPath = join(opts.runDir, 'metrics.jsonl')

  const step0 = opts.resume ? await resumeFromLatest(opts.runDir, params, optimizer, metricsPath, ctx) : 0
  if (opts.resume) await applyResumedLr(opts.runDir, cfg, opts.lr, step0, ctx)
  if (step0 === 0 && opts.init) await startFromPretrained(opts.init, params, cfg, opts.runDir, ctx)
  const guard = new TrainingGuard(opts.guard ?? GUARD_DEFAULTS, paramHealth(params))
  let step = step0
  const startStep = step0
  const stepper = await startStepper<EquiAVBatch, StepSettings, StepResult>(
    // no threads for a run with no step left (--steps 0: the initialisation alone)
    { workers: step0 < cfg.totalSteps ? (cfg.workers ?? 1) : 1, backend, model: { kind: 'pretrain', config: c, objective: cfg.objective }, params, optimizer },
    (batch, s) => {
      const inputs = batchTensors(batch, c)
      try {
        return trainStep(params, optimizer, c, inputs, s)
      } finally {
        Object.values(inputs).forEach((t) => t.dispose())
      }
    },
    (pool, batch, s) => pool.pretrainStep(batch, s)
  )
  if (stepper.workers > 1) ctx.log(`steps run on ${stepper.workers} engine workers`)

  const checkpoint = async (epoch: number): Promise<void> => {
    await stepper.sync()
    await refuseNonFinite(opts.runDir, params, step)
    await saveCheckpoint(opts.runDir, step, {
      weights: toTensorDict(params),
      optimizer: optimizer.exportState(),
      state: { step, epoch, rng: { seed: cfg.seed, step }, config: cfg, backend: backend.name, time: new Date().toISOString() }
    }, opts.keepCheckpoints)
  }

  let last: MetricsRow | undefined
  let epoch = 0
  // the next step's clips are read and collated while this one computes (on a pool, the coordinator is free then)
  const prepare = async (s: number): Promise<{ epoch: number; batch: EquiAVBatch }> => {
    const fetched = await fetchClips(source, s, cfg.batchSize, cfg.seed)
    return { epoch: fetched.epoch, batch: collateBatch(fetched.clips, derivedRng(cfg.seed, 'step', s), c, cfg.timeRoll ?? true) }
  }
  let prefetched: Promise<{ epoch: number; batch: EquiAVBatch }> | null = null
  try {
    while (step < cfg.totalSteps) {
      if (ctx.signal.aborted) break
      const t0 = performance.now()
      const prepared = await (prefetched ?? prepare(step))
      prefetched = step + 1 < cfg.totalSteps ? prepare(step + 1) : null
      epoch = prepared.epoch
      const lr = warmupCosineLr(step, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.totalSteps })
      const r = await stepper.step(prepared.batch, {
        objective: cfg.objective,
        lossWeights: cfg.lossWeights,
        tau: cfg.tau,
        clipNorm: cfg.clipNorm,
        lr
      })
      const verdict = guard.check({
        step: step + 1,
        loss: r.total,
        params: stepper.health(),
        inter: { loss: r.inter, batchSize: cfg.batchSize, spreadA: r.spreadA, spreadV: r.spreadV }
      })
      if (verdict.action === 'warn') ctx.log(`warning: ${verdict.reason}`)
      if (verdict.action === 'stop') throw await guardStopError(opts.runDir, `${verdict.reason} (lr ${lr.toExponential(2)})`)
      step++

      const seconds = (performance.now() - t0) / 1000
      last = {
        step,
        epoch,
        loss: r.total,
        loss_inter: r.inter,
        loss_intra_a: r.intraA,
        loss_intra_v: r.intraV,
        lr,
        grad_norm: r.gradNorm,
        spread_a: r.spreadA,
        spread_v: r.spreadV,
        clips_per_s: cfg.batchSize / seconds,
        time: new Date().toISOString()
      }
      await appendLine(metricsPath, JSON.stringify(last))
      ctx.metrics({ ...last })
      ctx.progress({
        done: step,
        total: cfg.totalSteps,
        unit: 'step',
        fields: { loss: r.total.toFixed(4), 'clips/s': last.clips_per_s.toFixed(1) }
      })
      if (step % cfg.checkpointEvery === 0 || step === cfg.totalSteps) await checkpoint(epoch)
    }
    const cancelled = step < cfg.totalSteps
    if (cancelled && step > startStep && step % cfg.checkpointEvery !== 0) await checkpoint(epoch)
    // --steps 0: the initialisation itself, e.g. the randomly initialised encoders a linear probe is compared with
    if (cfg.totalSteps === 0 && startStep === 0) await checkpoint(0)
    return { runDir: opts.runDir, startStep, finalStep: step, cancelled, last }
  } finally {
    await prefetched?.catch(() => undefined) // a cancelled or failed run's read-ahead is not needed
    await stepper.close()
    params.forEach((v) => v.dispose())
    optimizer.dispose()
  }
}
