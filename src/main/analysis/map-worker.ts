/**
 * The worker thread that computes an embedding map's coordinates (PCA or UMAP) or the true-pair ranks off
 * the API process's event loop, so the workbench keeps answering while a UMAP of many clips runs. One task
 * per worker: it reports progress, then the result columns, then exits.
 */
import { parentPort } from 'node:worker_threads'
import { projectMap } from '../engine/eval/map-projection'
import { truePairRanks } from './true-pair-ranks'
import type { MapTask, MapWorkerReply } from './map-tasks'

const port = parentPort
if (!port) throw new Error('map-worker.ts runs as a worker thread')

function run(t: MapTask, onProgress: (done: number, total: number) => void): Float32Array[] {
  if (t.task === 'ranks') {
    const a2v = truePairRanks(t.audio, t.visual, t.dim, (d, n) => onProgress(d, 2 * n))
    const v2a = truePairRanks(t.visual, t.audio, t.dim, (d, n) => onProgress(n + d, 2 * n))
    return [Float32Array.from(a2v), Float32Array.from(v2a)]
  }
  const c = projectMap(t.audio, t.visual, t.dim, t.projection, onProgress)
  return [c.ax, c.ay, c.vx, c.vy]
}

port.once('message', (t: MapTask) => {
  const send = (m: MapWorkerReply): void => port.postMessage(m)
  try {
    const columns = run(t, (done, total) => send({ type: 'progress', done, total }))
    port.postMessage({ type: 'result', columns } satisfies MapWorkerReply, columns.map((c) => c.buffer as ArrayBuffer))
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  }
})
