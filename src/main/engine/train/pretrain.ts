/**
 * EquiAV pretraining: its run config, its step and its metrics row, on the loop skeleton of loop.ts.
 * Runs identically in the CLI and in an engine process: it reports through a Reporter and keeps its run
 * folder through a RunStore.
 */
import { describeBackend, initBackend, type BackendInfo, type RecordedBackend } from '../backend'
import { type ModelConfig, PRESETS, type PresetName } from '../config'
import type { LossWeights, Objective } from '../types'
import type { EquiAVBatch } from '../batch'
import { createParams, type Modality, type Params } from '../model'
import { AdamW } from '../optim'
import { warmupCosineLr } from '../schedule'
import { type EncoderLayout, loadEncoders } from '../checkpoint/encoders'
import type { TensorDict } from '../checkpoint/tensors'
import type { Reporter } from '../report'
import { type ClipSource, derivedRng, stepsPerEpoch } from './data-source'
import { type LoopRow, type LrChange, type RunStore, runTrainingLoop } from './loop'
import type { GuardSettings } from './guard'
import { collateBatch } from './views'
import { batchTensors, type StepResult, type StepSettings, trainStep } from './step'
import { DEFAULT_LR } from '../../../shared/requests'

export interface PretrainOptions {
  preset: PresetName
  /** overrides on the preset, e.g. { cenNum: 4 } */
  model?: Partial<ModelConfig>
  objective: Objective
  /** total optimisation steps (wins over epochs) */
  steps?: number
  epochs?: number
  batchSize: number
  /** peak learning rate (default: the preset's, DEFAULT_LR); with `resume`, a new value replaces the run's from there on */
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
  backend: RecordedBackend
  init?: EncoderInit
  /** absent in runs made before the option: those rolled */
  timeRoll?: boolean
  /** engine workers of the newest session (a resumed run may use another number); absent before the option: 1 */
  workers?: number
}

/** A pretraining step's loss terms, learning rate and gradient norm. */
type PretrainFields = {
  loss: number
  loss_inter: number
  loss_intra_a: number
  loss_intra_v: number
  lr: number
  grad_norm: number
  /** mean cosine between different clips' inter-modal embeddings in the batch: 1 = collapsed (absent in older runs) */
  spread_a?: number
  spread_v?: number
}

/** A row of a pretraining run's metrics.jsonl. */
export type MetricsRow = LoopRow<PretrainFields>

export interface PretrainSummary {
  runDir: string
  startStep: number
  finalStep: number
  cancelled: boolean
  last?: MetricsRow
}

/** config.json of a new run: the options resolved against the data (`equiav cluster export` writes the same). */
export function newRunConfig(opts: PretrainOptions, run: string, data: { size: number; describe: string }, backend: RecordedBackend): RunConfig {
  const spe = stepsPerEpoch(data.size, opts.batchSize)
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * spe
  return {
    run,
    created: new Date().toISOString(),
    model: { ...PRESETS[opts.preset], ...opts.model },
    preset: opts.preset,
    objective: opts.objective,
    totalSteps,
    stepsPerEpoch: spe,
    batchSize: opts.batchSize,
    lr: opts.lr ?? DEFAULT_LR[opts.preset],
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
async function openRun(opts: PretrainOptions, source: ClipSource, backend: BackendInfo, store: RunStore<RunConfig>): Promise<RunConfig> {
  return store.openConfig(opts.resume, {
    // a resumed run keeps its model and data; only the step budget may grow
    resumed: (previous) => ({ ...previous, totalSteps: opts.steps ?? previous.totalSteps, backend, workers: opts.workers ?? 1 }),
    fresh: () => ({ ...newRunConfig(opts, store.name, source, backend), workers: opts.workers ?? 1 })
  })
}

async function startFromPretrained(init: NonNullable<PretrainOptions['init']>, params: Params, cfg: RunConfig, store: RunStore<RunConfig>, reporter: Reporter): Promise<void> {
  const loaded = loadEncoders(params, cfg.model, init.modalities, init.weights, init.layout, init.from)
  cfg.init = { from: init.from, layout: init.layout, modalities: init.modalities, tensors: loaded.length }
  await store.saveConfig(cfg)
  reporter.log(`encoders ${init.modalities.join(', ')} start from ${init.from} (${init.layout} layout, ${loaded.length} tensors)`)
}

/** A pretraining step's settings at `step`: the schedule's learning rate and the run's loss settings. */
function stepSettings(cfg: RunConfig, step: number): StepSettings {
  const lr = warmupCosineLr(step, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.totalSteps })
  return { objective: cfg.objective, lossWeights: cfg.lossWeights, tau: cfg.tau, clipNorm: cfg.clipNorm, lr }
}

function pretrainFields(r: StepResult, lr: number): PretrainFields {
  return { loss: r.total, loss_inter: r.inter, loss_intra_a: r.intraA, loss_intra_v: r.intraV, lr, grad_norm: r.gradNorm, spread_a: r.spreadA, spread_v: r.spreadV }
}

export async function runPretrain(opts: PretrainOptions, source: ClipSource, store: RunStore<RunConfig>, reporter: Reporter): Promise<PretrainSummary> {
  return store.locked(() => train(opts, source, store, reporter))
}

async function train(opts: PretrainOptions, source: ClipSource, store: RunStore<RunConfig>, reporter: Reporter): Promise<PretrainSummary> {
  const backend = await initBackend()
  reporter.log(describeBackend(backend))
  const cfg = await openRun(opts, source, backend, store)
  const c = cfg.model
  const params = createParams(c, cfg.seed)
  const optimizer = new AdamW(params, { weightDecay: cfg.weightDecay })
  const summary = await runTrainingLoop<RunConfig, PretrainFields, EquiAVBatch, StepSettings, StepResult>(
    {
      store,
      source,
      params,
      optimizer,
      config: cfg,
      resume: opts.resume,
      lr: opts.lr,
      guard: opts.guard,
      backend,
      workerModel: { kind: 'pretrain', config: c, objective: cfg.objective },
      begin: async (startStep) => {
        if (startStep === 0 && opts.init) await startFromPretrained(opts.init, params, cfg, store, reporter)
      },
      prepare: (clips, step) => collateBatch(clips, derivedRng(cfg.seed, 'step', step), c, cfg.timeRoll ?? true),
      settings: (step) => stepSettings(cfg, step),
      stepHere: (batch, s) => {
        const inputs = batchTensors(batch, c)
        try {
          return trainStep(params, optimizer, c, inputs, s)
        } finally {
          Object.values(inputs).forEach((t) => t.dispose())
        }
      },
      stepPooled: (pool, batch, s) => pool.pretrainStep(batch, s),
      fields: (r, s) => pretrainFields(r, s.lr),
      inter: (f) => ({ loss: f.loss_inter, batchSize: cfg.batchSize, spreadA: f.spread_a ?? NaN, spreadV: f.spread_v ?? NaN }),
      state: (step) => ({ rng: { seed: cfg.seed, step }, config: cfg, backend: backend.name }),
      progressFields: (row) => ({ loss: row.loss.toFixed(4), 'clips/s': row.clips_per_s.toFixed(1) })
    },
    reporter
  )
  return { runDir: store.dir, ...summary }
}
