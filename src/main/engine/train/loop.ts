/**
 * The training-loop skeleton that pretraining and fine-tuning share: resume from the newest intact
 * checkpoint (with a `--resume --lr` change applied and recorded), read and collate the next step's clips
 * while this one computes, run each step through a stepper (in this thread, or on the engine workers of
 * parallel/; one thread for a run with no step left), let the training guard judge every update (a stopped
 * run is never checkpointed past its last good step), log a metrics row and progress per step, checkpoint
 * every `checkpointEvery` steps, stop at the next step when cancelled, and release the workers and dispose
 * the parameters and the optimiser however it ends. The two loops give it what differs: their step, their
 * metrics row, their checkpoint state. What is stored goes through a RunStore (src/main/runs/run-folder.ts).
 */
import type { BackendInfo } from '../backend'
import { assignFrom, toTensorDict } from '../checkpoint/params'
import type { CheckpointContents } from '../checkpoint/tensors'
import type { Params } from '../model'
import type { AdamW } from '../optim'
import type { Reporter } from '../report'
import { type ClipSource, fetchClips } from './data-source'
import { GUARD_DEFAULTS, type GuardSettings, type StepHealth, TrainingGuard } from './guard'
import { paramHealth } from './param-health'
import type { EnginePool } from './parallel/pool'
import type { WorkerModel } from './parallel/protocol'
import { type Stepper, startStepper } from './parallel/stepper'
import type { RawClip } from './synthetic'

/** A learning rate changed by `--resume --lr`: from which step, from what, to what. */
export interface LrChange {
  step: number
  from: number
  to: number
  time: string
}

/** A run folder as a training loop sees it. */
export interface RunStore<C> {
  /** where the run is kept, for messages */
  dir: string
  /** the run's name, for config.json */
  name: string
  /** runs `train` holding the run's lock, so that no second process trains the same run at the same time */
  locked<T>(train: () => Promise<T>): Promise<T>
  /** config.json of a new run (`fresh`), or the stored one through `resumed`; an existing run is never overwritten without resume */
  openConfig(resume: boolean, make: { fresh(): C; resumed(previous: C): C }): Promise<C>
  saveConfig(config: C): Promise<void>
  /**
   * the newest intact checkpoint with finite weights (newer ones that fail are skipped, saying why), with
   * metrics.jsonl cut back to its step (emptied when there is none)
   */
  restoreLatest(): Promise<(CheckpointContents & { step: number; dir: string }) | null>
  /** the folder of the newest checkpoint on disk, or null */
  newestCheckpoint(): Promise<string | null>
  appendMetrics(row: object): Promise<void>
  saveCheckpoint(step: number, contents: CheckpointContents): Promise<void>
}

/** What every step's metrics row holds besides the loop's own step, epoch, clips_per_s and time. */
export type StepFields = {
  loss: number
  lr: number
}

export type LoopRow<F extends StepFields> = { step: number; epoch: number } & F & { clips_per_s: number; time: string }

/** What the loop reads of config.json: length, batch, seed (of the data order), checkpoint cadence, peak lr and its changes, engine workers (absent: 1). */
export type LoopConfig = { totalSteps: number; batchSize: number; seed: number; checkpointEvery: number; lr: number; lrChanges?: LrChange[]; workers?: number }

/** A training loop: `C` its config.json, `F` its metrics fields, `B` a batch, `S` a step's settings, `R` a step's result. */
export interface TrainingLoop<C extends LoopConfig, F extends StepFields, B, S, R> {
  store: RunStore<C>
  source: ClipSource
  params: Params
  optimizer: AdamW
  config: C
  resume: boolean
  /** with `resume`: a new peak learning rate, from the resumed step on (config.json records the change) */
  lr?: number
  /** what stops the run; default GUARD_DEFAULTS */
  guard?: GuardSettings
  backend: BackendInfo
  /** the model the engine workers build when the steps run on more than one */
  workerModel: WorkerModel
  /** once the start step is known (0 for a fresh run) and the parameters restored: e.g. pretrained encoders */
  begin?(startStep: number): Promise<void>
  /** a step's clips collated into its batch (done for the next step while one computes) */
  prepare(clips: RawClip[], step: number): B
  /** the settings of the step at `step`: its learning rate on the schedule, its loss settings */
  settings(step: number): S
  /** one optimisation step in this thread: nothing may be applied when the loss is not finite */
  stepHere(batch: B, s: S): R
  /** the same step on the engine workers */
  stepPooled(pool: EnginePool, batch: B, s: S): Promise<R>
  /** a step's fields of the metrics row */
  fields(result: R, s: S): F
  /** pretraining: what the guard's collapse check reads of a step */
  inter?(fields: F): StepHealth['inter']
  /** a row's additions after its step, e.g. fine-tuning's evaluation at the end of an epoch (after `sync`) */
  after?(row: LoopRow<F>, sync: () => Promise<void>): Promise<LoopRow<F>>
  /** the checkpoint's JSON state besides step, epoch and time */
  state(step: number): Record<string, unknown>
  /** the progress bar's fields for a row */
  progressFields(row: LoopRow<F>): Record<string, string>
}

export interface LoopSummary<R> {
  startStep: number
  finalStep: number
  cancelled: boolean
  last?: R
}

async function resumeStep(store: RunStore<unknown>, params: Params, optimizer: AdamW, reporter: Reporter): Promise<number> {
  const ckpt = await store.restoreLatest()
  if (!ckpt) {
    reporter.log(`no checkpoint in ${store.dir} yet: starting from step 0`)
    return 0
  }
  assignFrom(params, ckpt.weights, ckpt.dir)
  optimizer.importState(ckpt.optimizer)
  reporter.log(`resuming ${store.dir} from its checkpoint at step ${ckpt.step}`)
  return ckpt.step
}

/** The error a run stops with when the training guard stops it: nothing of the bad step is checkpointed. */
async function guardStopError(store: RunStore<unknown>, reason: string): Promise<Error> {
  const newest = await store.newestCheckpoint()
  return new Error(
    `training stopped: ${reason}. Nothing after the last good step was checkpointed: ` +
      (newest ? `the newest checkpoint is still ${newest}` : `${store.dir} has no checkpoint`)
  )
}

/** `--resume` with a new `--lr`: the run continues at it from `step`, and config.json records the change. */
async function applyResumedLr<C extends LoopConfig>(store: RunStore<C>, cfg: C, requested: number | undefined, step: number, reporter: Reporter): Promise<void> {
  if (requested === undefined || requested === cfg.lr) return
  reporter.log(`peak learning rate ${cfg.lr} → ${requested} from step ${step} (recorded in config.json)`)
  cfg.lrChanges = [...(cfg.lrChanges ?? []), { step, from: cfg.lr, to: requested, time: new Date().toISOString() }]
  cfg.lr = requested
  await store.saveConfig(cfg)
}

export async function runTrainingLoop<C extends LoopConfig, F extends StepFields, B, S, R>(loop: TrainingLoop<C, F, B, S, R>, reporter: Reporter): Promise<LoopSummary<LoopRow<F>>> {
  const { totalSteps, batchSize, seed, checkpointEvery } = loop.config
  type Prepared = { epoch: number; batch: B }
  let prefetched: Promise<Prepared> | null = null
  let started: Stepper<B, S, R> | undefined
  try {
    const startStep = loop.resume ? await resumeStep(loop.store, loop.params, loop.optimizer, reporter) : 0
    if (loop.resume) await applyResumedLr(loop.store, loop.config, loop.lr, startStep, reporter)
    await loop.begin?.(startStep)
    const guard = new TrainingGuard(loop.guard ?? GUARD_DEFAULTS, paramHealth(loop.params))
    const stepper = await startStepper<B, S, R>(
      // no threads for a run with no step left (--steps 0: the initialisation alone)
      { workers: startStep < totalSteps ? (loop.config.workers ?? 1) : 1, backend: loop.backend, model: loop.workerModel, params: loop.params, optimizer: loop.optimizer },
      (batch, s) => loop.stepHere(batch, s),
      (pool, batch, s) => loop.stepPooled(pool, batch, s)
    )
    started = stepper
    if (stepper.workers > 1) reporter.log(`steps run on ${stepper.workers} engine workers`)
    const sync = (): Promise<void> => stepper.sync()
    let step = startStep
    let epoch = 0
    let last: LoopRow<F> | undefined
    const checkpoint = async (): Promise<void> => {
      await sync()
      // the last guard before a checkpoint: non-finite parameters (possible between the guard's checks when
      // the steps run on engine workers) stop the run instead of being written
      const h = paramHealth(loop.params)
      if (h.nonFinite > 0) throw await guardStopError(loop.store, `the parameters at step ${step} hold ${h.nonFinite} of ${h.total} non-finite values`)
      await loop.store.saveCheckpoint(step, {
        weights: toTensorDict(loop.params),
        optimizer: loop.optimizer.exportState(),
        state: { step, epoch, ...loop.state(step), time: new Date().toISOString() }
      })
    }
    const prepare = async (s: number): Promise<Prepared> => {
      const fetched = await fetchClips(loop.source, s, batchSize, seed)
      return { epoch: fetched.epoch, batch: loop.prepare(fetched.clips, s) }
    }
    while (step < totalSteps && !reporter.signal.aborted) {
      const t0 = performance.now()
      const prepared = await (prefetched ?? prepare(step))
      prefetched = step + 1 < totalSteps ? prepare(step + 1) : null
      epoch = prepared.epoch
      const settings = loop.settings(step)
      const fields = loop.fields(await stepper.step(prepared.batch, settings), settings)
      const verdict = guard.check({ step: step + 1, loss: fields.loss, params: stepper.health(), inter: loop.inter?.(fields) })
      if (verdict.action === 'warn') reporter.log(`warning: ${verdict.reason}`)
      if (verdict.action === 'stop') throw await guardStopError(loop.store, `${verdict.reason} (lr ${fields.lr.toExponential(2)})`)
      step++
      const row: LoopRow<F> = { step, epoch, ...fields, clips_per_s: batchSize / ((performance.now() - t0) / 1000), time: new Date().toISOString() }
      last = loop.after ? await loop.after(row, sync) : row
      await loop.store.appendMetrics(last)
      reporter.metrics({ ...last })
      reporter.progress({ done: step, total: totalSteps, unit: 'step', fields: loop.progressFields(last) })
      if (step % checkpointEvery === 0 || step === totalSteps) await checkpoint()
    }
    const cancelled = step < totalSteps
    if (cancelled && step > startStep && step % checkpointEvery !== 0) await checkpoint()
    // --steps 0: the initialisation itself, e.g. the randomly initialised encoders a linear probe is compared with
    if (totalSteps === 0 && startStep === 0) await checkpoint()
    return { startStep, finalStep: step, cancelled, last }
  } finally {
    await prefetched?.catch(() => undefined) // a cancelled or failed run's read-ahead is not needed
    await started?.close()
    loop.params.forEach((v) => v.dispose())
    loop.optimizer.dispose()
  }
}
