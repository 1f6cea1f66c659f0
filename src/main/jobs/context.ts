/**
 * What a long-running job (pretraining, fine-tuning, preparation, evaluation) sees of the world.
 * The same job function runs in the CLI (reporting to a terminal progress bar) and in an engine process
 * spawned by the job runner (reporting over the process channel to every connected client).
 */
export interface JobProgress {
  /** units done so far (steps, clips) */
  done: number
  total: number
  unit: string
  /** short free-form fields for the bar: loss, throughput… */
  fields?: Record<string, string>
}

export interface JobContext {
  progress(p: JobProgress): void
  /** one logged metrics row (also appended to the run's metrics.jsonl by the job itself) */
  metrics(row: Record<string, number | string>): void
  log(line: string): void
  /** aborted when the user cancels; the job stops at the next safe point (after a checkpoint) */
  signal: AbortSignal
}
