/**
 * Map computations (a projection of a split's embeddings, or their true-pair ranks) run in worker threads
 * (map-worker.ts) and kept by key — run, dataset, split, the embeddings' version and the parameters — so
 * the same map is computed once, its progress can be asked for while it runs, and a second request for it
 * waits on the first. The last few results are kept; a failed task is kept with its error until it is
 * asked for again, which retries it.
 */
import { Worker } from 'node:worker_threads'
import type { MapProjection } from '../engine/eval/map-projection'

export type MapTask =
  | { task: 'project'; audio: Float32Array; visual: Float32Array; dim: number; projection: MapProjection }
  | { task: 'ranks'; audio: Float32Array; visual: Float32Array; dim: number }

export type MapWorkerReply = { type: 'progress'; done: number; total: number } | { type: 'result'; columns: Float32Array[] } | { type: 'error'; message: string }

export type MapTaskState = { state: 'computing'; done: number; total: number } | { state: 'ready' } | { state: 'failed'; error: string }

/** The bundled worker beside the bundled main process (out/main/map-worker.js); from source, the .ts through tsx. */
function spawnMapWorker(): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./map-worker.js', import.meta.url))
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./map-worker.ts', import.meta.url).href)
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`, { eval: true })
}

/** Runs one task in its own worker thread; the inputs are copied, so the caller's arrays stay usable. */
export function runMapTask(task: MapTask, onProgress: (done: number, total: number) => void): Promise<Float32Array[]> {
  return new Promise((resolve, reject) => {
    const worker = spawnMapWorker()
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      fn()
      void worker.terminate()
    }
    worker.on('message', (m: MapWorkerReply) => {
      if (m.type === 'progress') onProgress(m.done, m.total)
      else if (m.type === 'result') settle(() => resolve(m.columns))
      else settle(() => reject(new Error(m.message)))
    })
    worker.on('error', (err) => settle(() => reject(err)))
    worker.on('exit', (code) => settle(() => reject(new Error(`the map worker stopped (exit code ${code}) before answering`))))
    worker.postMessage(task)
  })
}

interface Entry {
  result: Promise<Float32Array[]>
  state: MapTaskState
}

export class MapTasks {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly keep = 8,
    private readonly run: typeof runMapTask = runMapTask
  ) {}

  /** The task's result: started under `key` unless it already runs or is kept (a failed one starts again). */
  get(key: string, task: () => MapTask): Promise<Float32Array[]> {
    const hit = this.entries.get(key)
    if (hit && hit.state.state !== 'failed') {
      this.entries.delete(key) // re-inserted: most recently used last
      this.entries.set(key, hit)
      return hit.result
    }
    const entry: Entry = { state: { state: 'computing', done: 0, total: 0 }, result: Promise.resolve([]) }
    entry.result = this.run(task(), (done, total) => {
      if (entry.state.state === 'computing') entry.state = { state: 'computing', done, total }
    }).then(
      (columns) => {
        entry.state = { state: 'ready' }
        return columns
      },
      (err: unknown) => {
        entry.state = { state: 'failed', error: err instanceof Error ? err.message : String(err) }
        throw err
      }
    )
    entry.result.catch(() => undefined) // reported to whoever awaits it, and by state()
    this.entries.set(key, entry)
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.keep) break
      if (e.state.state !== 'computing') this.entries.delete(k)
    }
    return entry.result
  }

  /** How the task under `key` stands; null: never asked for, or no longer kept. */
  state(key: string): MapTaskState | null {
    return this.entries.get(key)?.state ?? null
  }
}
