/**
 * Entry of an engine process. The parent sends one {kind, args}; this process runs the job and streams
 * progress, metrics and log lines back, then its result. A 'cancel' message aborts the job at its next
 * safe point (the pretraining loop checkpoints before it returns).
 * It runs as a Node child process (CLI, serve: messages over the IPC channel) or as an Electron
 * utilityProcess (the app: messages over process.parentPort). When the parent dies (a server killed or
 * crashed), the job is stopped as by a cancel, so it checkpoints before this process exits; the next
 * server on the workspace continues it from there (runner.ts).
 */
import { setPriority } from 'node:os'
import { fileURLToPath } from 'node:url'
import { PREPARE_WORKER_ENV } from '../data/cache'
import type { Reporter } from '../engine/report'
import { ENGINE_WORKER_ENV } from '../engine/train/parallel/pool'
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

function parentChannel(onParentGone: () => void): Channel | null {
  const port = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort
  if (port) return { send: (m) => port.postMessage(m), onMessage: (cb) => port.on('message', (e) => cb(e.data)) }
  if (!process.send) return null
  process.on('disconnect', onParentGone)
  // Ctrl-C on `equiav serve` reaches this process too (same process group): stop as the server does
  process.on('SIGINT', onParentGone)
  // once the parent is gone, messages have nowhere to go (sending would throw) and stderr's pipe is closed
  process.stderr.on('error', () => undefined)
  return { send: (m) => void (process.connected && process.send?.(m)), onMessage: (cb) => void process.on('message', cb) }
}

// the bundled host (out/main/engine-host.js) has its prepare and engine workers beside it; from source, tsx runs the .ts ones
if (import.meta.url.endsWith('.js')) {
  process.env[PREPARE_WORKER_ENV] ??= fileURLToPath(new URL('./prepare-worker.js', import.meta.url))
  process.env[ENGINE_WORKER_ENV] ??= fileURLToPath(new URL('./engine-worker.js', import.meta.url))
}

/** Jobs are background work: the app and the server answering the researcher come first on a busy machine.
 * Set before any engine worker thread starts, so they inherit it (Linux keeps the nice value per thread). */
setPriority(10)
const controller = new AbortController()
let started = false
// nobody is listening: a running job stops at its next safe point (checkpointing first), an idle host exits
const channel = parentChannel(() => (started ? controller.abort() : process.exit(1)))
if (channel) {
  channel.onMessage((m) => {
    if ('type' in m && m.type === 'cancel') {
      controller.abort()
      return
    }
    started = true
    const ctx: Reporter = {
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
