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
