/**
 * The OS progress bar (taskbar / dock) of the window: BrowserWindow.setProgressBar takes a fraction in
 * [0, 1], a value above 1 for "busy, amount unknown", or a negative value to hide the bar.
 */
import type { Job } from '../shared/contract'

export const HIDDEN = -1
export const INDETERMINATE = 2

/** The running job's fraction done; busy while it has not reported yet; hidden when no job runs. */
export function progressBarValue(jobs: readonly Pick<Job, 'state' | 'progress'>[]): number {
  const active = jobs.find((j) => j.state === 'running')
  if (!active) return HIDDEN
  const p = active.progress
  if (!p || !(p.total > 0)) return INDETERMINATE
  return Math.min(1, Math.max(0, p.done / p.total))
}
