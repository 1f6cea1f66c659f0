/**
 * How a training loop runs its steps: in its own thread (one worker, or a backend whose kernels are
 * already multi-threaded), or on an engine pool of N worker threads. The loop keeps its parameters and
 * AdamW; with a pool they are brought up to date from the workers (sync) before a checkpoint or an evaluation.
 */
import { availableParallelism } from 'node:os'
import { type BackendInfo, initBackend } from '../../backend'
import type { Params } from '../../model'
import type { AdamW } from '../../optim'
import { assignFrom } from '../run'
import { EnginePool } from './pool'
import type { WorkerModel } from './protocol'

/** Engine workers when none are asked for: every core on wasm (one thread each), one on the native backends. */
export function defaultWorkers(backend: Pick<BackendInfo, 'name'>): number {
  return backend.name === 'wasm' || backend.name === 'cpu' ? availableParallelism() : 1
}

/**
 * The engine workers of a training or embedding command: the number asked for (--workers, the forms), else
 * the default of this process's backend, never more than the clips of a batch.
 */
export async function resolveWorkers(requested: number | undefined, batchSize: number): Promise<number> {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) throw new Error(`workers must be a whole number ≥ 1, got ${requested}`)
    if (requested > batchSize) throw new Error(`a batch of ${batchSize} clips cannot be split over ${requested} engine workers: ask for ${batchSize} or fewer`)
    return requested
  }
  return Math.max(1, Math.min(defaultWorkers(await initBackend()), batchSize))
}

export interface Stepper<Batch, Settings, Result> {
  /** N: the engine workers the steps run on (1: this thread) */
  workers: number
  step(batch: Batch, settings: Settings): Promise<Result>
  /** the loop's parameters and AdamW state equal the workers' afterwards */
  sync(): Promise<void>
  close(): Promise<void>
}

export interface StepperOptions {
  workers: number
  backend: BackendInfo
  model: WorkerModel
  /** the loop's parameters and optimizer: the workers start from them */
  params: Params
  optimizer: AdamW
}

/** `here` runs a step in this thread (workers = 1); `pooled` runs it on the pool. */
export async function startStepper<Batch, Settings, Result>(
  o: StepperOptions,
  here: (batch: Batch, s: Settings) => Result,
  pooled: (pool: EnginePool, batch: Batch, s: Settings) => Promise<Result>
): Promise<Stepper<Batch, Settings, Result>> {
  if (o.workers <= 1) {
    return { workers: 1, step: (batch, s) => Promise.resolve(here(batch, s)), sync: () => Promise.resolve(), close: () => Promise.resolve() }
  }
  const pool = await EnginePool.start({ workers: o.workers, backend: o.backend.name, model: o.model, params: o.params, optimizer: o.optimizer })
  return {
    workers: o.workers,
    step: (batch, s) => pooled(pool, batch, s),
    sync: async () => {
      const state = await pool.exportState()
      assignFrom(o.params, state.weights, 'engine worker 1')
      if (state.optimizer) o.optimizer.importState(state.optimizer)
    },
    close: () => pool.close()
  }
}
