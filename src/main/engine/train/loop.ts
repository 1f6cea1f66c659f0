/**
 * The training-loop skeleton that pretraining and fine-tuning share: resume from the newest intact
 * checkpoint, read and collate the next step's clips while this one computes, run each step (in this
 * thread or on the engine workers of parallel/), let the training guard judge every update (a stopped run
 * is never checkpointed past its last good step), log a metrics row and progress per step, checkpoint every
 * `checkpointEvery` steps, stop at the next step when cancelled, and release the workers and dispose the
 * parameters and the optimiser however it ends.
 * What is stored goes through a RunStore, which src/main/runs/run-folder.ts keeps on disk.
 */
import { assignFrom, toTensorDict } from '../checkpoint/params'
import type { CheckpointContents } from '../checkpoint/tensors'
import type { Params } from '../model'
import type { AdamW } from '../optim'
import type { Reporter } from '../report'
import { type ClipSource, fetchClips } from './data-source'
import type { Verdict } from './guard'
import { paramHealth } from './param-health'
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

export interface TrainingLoop<F extends StepFields, B> {
  store: RunStore<unknown>
  source: ClipSource
  params: Params
  optimizer: AdamW
  resume: boolean
  /** the run's length, batch, seed (of the data order) and checkpoint cadence, as its config records them */
  config: { totalSteps: number; batchSize: number; seed: number; checkpointEvery: number }
  /**
   * once the start step is known (0 for a fresh run) and the parameters restored: e.g. a new --lr on
   * resume, pretrained encoders, the guard's first measurement, the engine workers
   */
  begin?(startStep: number): Promise<void>
  /** a step's clips collated into its batch (done for the next step while one computes) */
  prepare(clips: RawClip[], step: number): B
  /** one optimisation step on the batch of `step`: nothing may be applied when the loss is not finite */
  step(batch: B, step: number): Promise<F>
  /** the training guard's verdict on the update of `step` (1-based) that gave `fields` */
  check(fields: F, step: number): Verdict
  /** the parameters and the optimiser brought up to date with the engine workers (before a checkpoint or an evaluation) */
  sync?(): Promise<void>
  /** releases what `begin` started (the engine workers), however the run ends */
  end?(): Promise<void>
  /** a row's additions after its step, e.g. fine-tuning's evaluation at the end of an epoch */
  after?(row: LoopRow<F>): Promise<LoopRow<F>>
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
export async function applyResumedLr<C extends { lr: number; lrChanges?: LrChange[] }>(store: RunStore<C>, cfg: C, requested: number | undefined, step: number, reporter: Reporter): Promise<void> {
  if (requested === undefined || requested === cfg.lr) return
  reporter.log(`peak learning rate ${cfg.lr} → ${requested} from step ${step} (recorded in config.json)`)
  cfg.lrChanges = [...(cfg.lrChanges ?? []), { step, from: cfg.lr, to: requested, time: new Date().toISOString() }]
  cfg.lr = requested
  await store.saveConfig(cfg)
}

export async function runTrainingLoop<F extends StepFields, B>(loop: TrainingLoop<F, B>, reporter: Reporter): Promise<LoopSummary<LoopRow<F>>> {
  const { totalSteps, batchSize, seed, checkpointEvery } = loop.config
  type Prepared = { epoch: number; batch: B }
  let prefetched: Promise<Prepared> | null = null
  try {
    const startStep = loop.resume ? await resumeStep(loop.store, loop.params, loop.optimizer, reporter) : 0
    await loop.begin?.(startStep)
    let step = startStep
    let epoch = 0
    let last: LoopRow<F> | undefined
    const checkpoint = async (): Promise<void> => {
      await loop.sync?.()
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
      const fields = await loop.step(prepared.batch, step)
      const verdict = loop.check(fields, step + 1)
      if (verdict.action === 'warn') reporter.log(`warning: ${verdict.reason}`)
      if (verdict.action === 'stop') throw await guardStopError(loop.store, `${verdict.reason} (lr ${fields.lr.toExponential(2)})`)
      step++
      const row: LoopRow<F> = { step, epoch, ...fields, clips_per_s: batchSize / ((performance.now() - t0) / 1000), time: new Date().toISOString() }
      last = loop.after ? await loop.after(row) : row
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
    await loop.end?.()
    loop.params.forEach((v) => v.dispose())
    loop.optimizer.dispose()
  }
}
