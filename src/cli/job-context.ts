import type { Reporter } from '../main/engine/report'
import { ProgressBar } from './progress'

/** A Reporter for the terminal: a progress bar on stderr, logs on stderr; Ctrl-C cancels cleanly. */
export function terminalJobContext(label: string): { ctx: Reporter; dispose(): void } {
  const controller = new AbortController()
  let bar: ProgressBar | undefined
  let first = true
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130)
    process.stderr.write('\ncancelling: stopping after the current step (Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  const ctx: Reporter = {
    signal: controller.signal,
    log: (line) => process.stderr.write(line + '\n'),
    metrics: () => {},
    progress: (p) => {
      if (!bar) bar = new ProgressBar({ label, total: p.total, unit: p.unit })
      if (first) {
        bar.startAt(p.done)
        first = false
      }
      bar.update(p.done, p.fields)
    }
  }
  return { ctx, dispose: () => process.off('SIGINT', onSigint) }
}

/** Runs `work` with a terminal Reporter; Ctrl-C's handler is removed however it ends. */
export async function withTerminalJob<T>(label: string, work: (ctx: Reporter) => Promise<T>): Promise<T> {
  const { ctx, dispose } = terminalJobContext(label)
  try {
    return await work(ctx)
  } finally {
    dispose()
  }
}

/** A job Ctrl-C stopped: how to resume it, and the exit code 130. */
export function stopped(what = ''): number {
  process.stderr.write(`stopped; run the same command again to resume${what}\n`)
  return 130
}
