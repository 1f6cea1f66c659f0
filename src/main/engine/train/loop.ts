/**
 * The training-loop skeleton that pretraining and fine-tuning share: resume from the newest checkpoint,
 * read the next step's clips while this one computes, stop on a non-finite loss with the last good state
 * checkpointed, log a metrics row and progress per step, checkpoint every `checkpointEvery` steps, stop at
 * the next step when cancelled, and dispose the parameters and the optimiser however it ends.
 * What is stored goes through a RunStore, which src/main/runs/run-folder.ts keeps on disk.
 */
import { assignFrom, toTensorDict } from '../checkpoint/params'
import type { CheckpointContents } from '../checkpoint/tensors'
import type { Params } from '../model'
import type { AdamW } from '../optim'
import type { Reporter } from '../report'
import { type ClipSource, type FetchedClips, fetchClips } from './data-source'
import type { RawClip } from './synthetic'

/** A run folder as a training loop sees it. */
export interface RunStore<C> {
  /** where the run is kept, for messages */
  dir: string
  /** the run's name, for config.json */
  name: string
  /** config.json of a new run (`fresh`), or the stored one through `resumed`; an existing run is never overwritten without resume */
  openConfig(resume: boolean, make: { fresh(): C; resumed(previous: C): C }): Promise<C>
  saveConfig(config: C): Promise<void>
  /** the newest checkpoint, with metrics.jsonl cut back to its step (emptied when there is none) */
  restoreLatest(): Promise<(CheckpointContents & { step: number; dir: string }) | null>
  appendMetrics(row: object): Promise<void>
  saveCheckpoint(step: number, contents: CheckpointContents): Promise<void>
}

/** What every step's metrics row holds besides the loop's own step, epoch, clips_per_s and time. */
export type StepFields = {
  loss: number
  lr: number
}

export type LoopRow<F extends StepFields> = { step: number; epoch: number } & F & { clips_per_s: number; time: string }

export interface TrainingLoop<F extends StepFields> {
  store: RunStore<unknown>
  source: ClipSource
  params: Params
  optimizer: AdamW
  resume: boolean
  /** the run's length, batch, seed (of the data order) and checkpoint cadence, as its config records them */
  config: { totalSteps: number; batchSize: number; seed: number; checkpointEvery: number }
  /** once the start step is known (0 for a fresh run), e.g. to load pretrained encoders */
  begin?(startStep: number): Promise<void>
  /** one optimisation step on the clips of `step`: nothing may be applied when the loss is not finite */
  step(clips: RawClip[], step: number): F
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

export async function runTrainingLoop<F extends StepFields>(loop: TrainingLoop<F>, reporter: Reporter): Promise<LoopSummary<LoopRow<F>>> {
  const { totalSteps, batchSize, seed, checkpointEvery } = loop.config
  try {
    const startStep = loop.resume ? await resumeStep(loop.store, loop.params, loop.optimizer, reporter) : 0
    await loop.begin?.(startStep)
    let step = startStep
    let epoch = 0
    let last: LoopRow<F> | undefined
    const checkpoint = (): Promise<void> =>
      loop.store.saveCheckpoint(step, {
        weights: toTensorDict(loop.params),
        optimizer: loop.optimizer.exportState(),
        state: { step, epoch, ...loop.state(step), time: new Date().toISOString() }
      })
    const fetch = (s: number): Promise<FetchedClips> => fetchClips(loop.source, s, batchSize, seed)
    let prefetched: Promise<FetchedClips> | null = null
    while (step < totalSteps && !reporter.signal.aborted) {
      const t0 = performance.now()
      const fetched = await (prefetched ?? fetch(step))
      prefetched = step + 1 < totalSteps ? fetch(step + 1) : null
      epoch = fetched.epoch
      const fields = loop.step(fetched.clips, step)
      if (!Number.isFinite(fields.loss)) {
        await checkpoint()
        throw new Error(
          `loss became ${fields.loss} at step ${step + 1} (lr ${fields.lr.toExponential(2)}); nothing of that step was applied, ` +
            `and the last good state is checkpointed at step ${step} in ${loop.store.dir}`
        )
      }
      step++
      const row: LoopRow<F> = { step, epoch, ...fields, clips_per_s: batchSize / ((performance.now() - t0) / 1000), time: new Date().toISOString() }
      last = loop.after ? await loop.after(row) : row
      await loop.store.appendMetrics(last)
      reporter.metrics({ ...last })
      reporter.progress({ done: step, total: totalSteps, unit: 'step', fields: loop.progressFields(last) })
      if (step % checkpointEvery === 0 || step === totalSteps) await checkpoint()
    }
    await prefetched?.catch(() => undefined) // a cancelled run's read-ahead is not needed
    const cancelled = step < totalSteps
    if (cancelled && step > startStep && step % checkpointEvery !== 0) await checkpoint()
    // --steps 0: the initialisation itself, e.g. the randomly initialised encoders a linear probe is compared with
    if (totalSteps === 0 && startStep === 0) await checkpoint()
    return { startStep, finalStep: step, cancelled, last }
  } finally {
    loop.params.forEach((v) => v.dispose())
    loop.optimizer.dispose()
  }
}
