/**
 * Entry of an engine process. The parent sends one {kind, args}; this process runs the job and streams
 * progress, metrics and log lines back, then its result. A 'cancel' message aborts the job at its next
 * safe point (the pretraining loop checkpoints before it returns).
 */
import type { JobContext } from './context'
import { runJob } from './handlers'
import type { HostMessage, JobRequest } from './protocol'

const send = (m: HostMessage): void => {
  process.send?.(m)
}

if (process.send) {
  const controller = new AbortController()
  process.on('disconnect', () => process.exit(1)) // the parent is gone: nobody is listening
  process.on('message', (m: JobRequest | { type: 'cancel' }) => {
    if ('type' in m && m.type === 'cancel') {
      controller.abort()
      return
    }
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (p) => send({ type: 'progress', progress: p }),
      metrics: (row) => send({ type: 'metrics', row }),
      log: (line) => send({ type: 'log', line })
    }
    runJob(m as JobRequest, ctx).then(
      (result) => {
        send({ type: 'result', result, cancelled: controller.signal.aborted })
        process.exit(0)
      },
      (err: Error) => {
        send({ type: 'log', line: `error: ${err.message}` })
        process.exit(1)
      }
    )
  })
}
