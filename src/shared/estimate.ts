/**
 * Time-per-epoch estimates for the Train forms: seconds per step are measured by an engine process (two
 * real steps) and cached per (backend, task, preset, batch) in the workspace; this module names those figures
 * and words them. Runtime-neutral: used by main and renderer.
 */

/** What one step costs depends on what it trains: pretraining (encoders, predictor, centroid), full
 * audio-visual fine-tuning, or a linear probe (frozen encoders, forward only through them). */
export const ESTIMATE_TASKS = ['pretrain', 'finetune', 'linear-probe'] as const
export type EstimateTask = (typeof ESTIMATE_TASKS)[number]

export interface StepTimeKey {
  backend: string
  task: EstimateTask
  preset: string
  batchSize: number
}

/** The cache entry's name, e.g. "wasm/pretrain/tiny/16". */
export function stepTimeKey(k: StepTimeKey): string {
  return `${k.backend}/${k.task}/${k.preset}/${k.batchSize}`
}

/** "≈ 4.3 min per epoch on wasm" (seconds below a minute, hours above ten hours' worth of minutes). */
export function formatEpochTime(seconds: number, backend: string): string {
  const on = ` per epoch on ${backend}`
  if (seconds < 60) return `≈ ${Math.max(1, Math.round(seconds))} s${on}`
  const minutes = seconds / 60
  if (minutes < 10) return `≈ ${minutes.toFixed(1)} min${on}`
  if (minutes < 600) return `≈ ${Math.round(minutes)} min${on}`
  return `≈ ${(minutes / 60).toFixed(1)} h${on}`
}
