/**
 * Data-parallel engine workers, measured: the `tiny` equiav step (batch 16, S 16) in one thread (what
 * `--workers 1` runs) against the same step on N engine workers, in interleaved rounds so that load on the
 * machine affects both alike (medians, after two warm-up pairs); and the embedding throughput of the `tiny`
 * encoders on N workers (centroid embeddings, clips read from memory).
 * bench/run.ts calls measureDataParallel; alone: tsx bench/data-parallel.ts [workers] [rounds]
 */
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src/main/engine/backend'
import { PRESETS } from '../src/main/engine/config'
import { embedClips } from '../src/main/engine/eval/embed'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../src/main/engine/losses'
import { createParams } from '../src/main/engine/model'
import { AdamW } from '../src/main/engine/optim'
import { derivedRng } from '../src/main/engine/train/data-source'
import { EnginePool } from '../src/main/engine/train/parallel/pool'
import { batchTensors, trainStep } from '../src/main/engine/train/step'
import { syntheticClip } from '../src/main/engine/train/synthetic'
import { collateBatch } from '../src/main/engine/train/views'
import type { PhaseTimes } from '../src/main/engine/train/parallel/phases'
import { cpuSince, threadCpu } from './thread-cpu'
import { median } from './median'

/**
 * Where a step's time goes (medians over the rounds): CPU ms per step of each thread from /proc (the engine
 * workers are the N busiest threads the pool started; `other_threads` is everything else, mostly V8's
 * garbage collection), and each thread's wall ms per phase as the pool reports it (parallel/phases.ts).
 */
export interface StepProfile {
  one_worker_cpu_ms: { training_thread: number; other_threads: number }
  n_workers_cpu_ms: { coordinator: number; workers: number[]; other_threads: number }
  n_workers_phases_ms: { coordinator: PhaseTimes; workers: PhaseTimes[] }
}

export interface DataParallelFigures {
  /** median ms of one step in one thread */
  step_ms_1_worker: number
  /** median ms of the same step on `workers` engine workers */
  step_ms_n_workers: number
  workers: number
  /** step_ms_1_worker ÷ step_ms_n_workers, from the same interleaved rounds */
  dp_speedup: number
  /** centroid embeddings of the tiny encoders per second on `workers` engine workers */
  embed_clips_per_s: number
  step_profile: StepProfile
}

/** The median of every number over objects of one shape (rounded to 0.1 ms). */
export function medianOf<T>(xs: T[]): T {
  const first = xs[0] as unknown
  if (typeof first === 'number') return (Math.round(median(xs as number[]) * 10) / 10) as T
  if (Array.isArray(first)) return first.map((_, i) => medianOf(xs.map((x) => (x as unknown[])[i]))) as T
  const keys = Object.keys(first as object)
  return Object.fromEntries(keys.map((k) => [k, medianOf(xs.map((x) => (x as Record<string, unknown>)[k] ?? 0))])) as T
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

/** `rounds` timed pairs (one step in one thread, then the same step on the pool), after `warmup` untimed pairs. */
export async function measureDataParallel(workers: number, rounds = 5, warmup = 2): Promise<DataParallelFigures> {
  const backend = await initBackend(process.env.EQUIAV_BACKEND ?? 'wasm')
  const c = PRESETS.tiny
  const B = 16
  const batch = collateBatch(Array.from({ length: B }, (_, i) => syntheticClip(i, 0, c)), derivedRng(0, 'step', 0), c)
  const settings = { objective: 'equiav' as const, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 0.01, lr: 1e-4 }
  const params = createParams(c, 0)
  const optimizer = new AdamW(params, { weightDecay: 1e-5 })
  const main = String(process.pid)
  const before = threadCpu()
  const pool = await EnginePool.start({ workers, backend: backend.name, model: { kind: 'pretrain', config: c, objective: 'equiav' }, params, optimizer })
  const started = [...threadCpu().keys()].filter((tid) => !before.has(tid))
  try {
    const one: number[] = []
    const many: number[] = []
    const profiles: StepProfile[] = []
    for (let round = 0; round < warmup + rounds; round++) {
      const [t0, c0] = [performance.now(), threadCpu()]
      const inputs = batchTensors(batch, c)
      trainStep(params, optimizer, c, inputs, settings)
      tf.dispose(Object.values(inputs))
      const [t1, c1] = [performance.now(), threadCpu()]
      await pool.pretrainStep(batch, settings)
      const [t2, c2] = [performance.now(), threadCpu()]
      if (round >= warmup) {
        one.push(t1 - t0)
        many.push(t2 - t1)
        const [alone, pooled] = [cpuSince(c0, c1), cpuSince(c1, c2)]
        const busiest = started.sort((a, b) => (pooled.get(b) ?? 0) - (pooled.get(a) ?? 0)).slice(0, workers)
        const ms = (tids: string[], from: Map<string, number>): number => sum(tids.map((t) => from.get(t) ?? 0))
        const others = (from: Map<string, number>, mine: string[]): number => ms([...from.keys()].filter((t) => !mine.includes(t)), from)
        profiles.push({
          one_worker_cpu_ms: { training_thread: ms([main], alone), other_threads: others(alone, [main]) },
          n_workers_cpu_ms: { coordinator: ms([main], pooled), workers: busiest.map((t) => ms([t], pooled)), other_threads: others(pooled, [main, ...busiest]) },
          n_workers_phases_ms: { coordinator: pool.phases[0], workers: pool.phases.slice(1) }
        })
      }
    }
    const clips = Array.from({ length: 6 * B }, (_, i) => syntheticClip(i, 0, c))
    const embed = (count: number): Promise<unknown> =>
      embedClips(params, c, count, (i) => Promise.resolve(clips[i]), { kind: 'centroid', batchSize: B, embedRows: (x) => pool.embed(x) })
    await embed(B) // warm-up
    const t0 = performance.now()
    await embed(clips.length)
    const embedSeconds = (performance.now() - t0) / 1000
    const [s1, sn] = [median(one), median(many)]
    return { step_ms_1_worker: s1, step_ms_n_workers: sn, workers, dp_speedup: s1 / sn, embed_clips_per_s: clips.length / embedSeconds, step_profile: medianOf(profiles) }
  } finally {
    await pool.close()
    params.forEach((v) => v.dispose())
    optimizer.dispose()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [workers = String(availableParallelism()), rounds = '5'] = process.argv.slice(2)
  process.stdout.write(JSON.stringify(await measureDataParallel(Number(workers), Number(rounds))) + '\n')
}
