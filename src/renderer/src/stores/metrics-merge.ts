import type { MetricsRow } from '../../../shared/contract'

/**
 * Appends rows that arrived as events to the rows already shown, in place. A row already shown (same step
 * and time) is skipped; a row at or before the last step with another time means the run was resumed
 * from an earlier checkpoint and its log was cut back: the caller reloads it ('reload').
 */
export function appendMetrics(shown: MetricsRow[], incoming: readonly MetricsRow[]): 'appended' | 'reload' {
  for (const row of incoming) {
    const last = shown[shown.length - 1]
    if (!last || row.step > last.step) {
      shown.push(row)
      continue
    }
    const same = shown.find((r) => r.step === row.step)
    if (!same || same.time !== row.time) return 'reload'
  }
  return 'appended'
}
