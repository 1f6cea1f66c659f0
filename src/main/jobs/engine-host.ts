/**
 * Entry of an engine process. The parent sends one {kind, args}; this process runs the job and streams
 * progress, metrics and log lines back, then its result. A 'cancel' message aborts the job at its next
 * safe point (the pretraining loop checkpoints before it returns).
 * It runs as a Node child process (CLI, serve: messages over the IPC channel) or as an Electron
 * utilityProcess (the app: messages over process.parentPort).
 */
import { fileURLToPath } from 'node:url'
import { PREPARE_WORKER_ENV } from '../data/cache'
import { ENGINE_WORKER_ENV } from '../engine/train/parallel/pool'
import type { JobContext } from './context'
import { runJob } from './handlers'
import type { HostMessage, JobRequest, ParentMessage } from './protocol'

/** The part of Electron's ParentPort used here (the utility process's link to the app). */
interface ParentPort {
  on(event: 'message', cb: (e: { data: ParentMessage }) => void): void
  postMessage(m: HostMessage): void
}

interface Channel {
  send(m: HostMessage): void
  onMessage(cb: (m: ParentMessage) => void): void
}

function parentChannel(): Channel | null {
  const port = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort
  if (port) return { send: (m) => port.postMessage(m), onMessage: (cb) => port.on('message', (e) => cb(e.data)) }
  if (!process.send) return null
  process.on('disconnect', () => process.exit(1)) // the parent is gone: nobody is listening
  return { send: (m) => void process.send?.(m), onMessage: (cb) => void process.on('message', cb) }
}

// the bundled host (out/main/engine-host.js) has its prepare and engine workers beside it; from source, tsx runs the .ts ones
if (import.meta.url.endsWith('.js')) {
  process.env[PREPARE_WORKER_ENV] ??= fileURLToPath(new URL('./prepare-worker.js', import.meta.url))
  process.env[ENGINE_WORKER_ENV] ??= fileURLToPath(new URL('./engine-worker.js', import.meta.url))
}

const channel = parentChannel()
if (channel) {
  const controller = new AbortController()
  channel.onMessage((m) => {
    if ('type' in m && m.type === 'cancel') {
      controller.abort()
      return
    }
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (p) => channel.send({ type: 'progress', progress: p }),
      metrics: (row) => channel.send({ type: 'metrics', row }),
      log: (line) => channel.send({ type: 'log', line })
    }
    runJob(m as JobRequest, ctx).then(
      (result) => {
        channel.send({ type: 'result', result, cancelled: controller.signal.aborted })
        process.exit(0)
      },
      (err: Error) => {
        channel.send({ type: 'log', line: `error: ${err.message}` })
        process.exit(1)
      }
    )
  })
}
