/**
 * How long work (training, preparation, imports, evaluation) reports to whoever runs it. The engine owns
 * this interface; the CLI implements it with a terminal progress bar, an engine process with messages to
 * the job runner, which forwards them to every connected client.
 */
export interface Progress {
  /** units done so far (steps, clips) */
  done: number
  total: number
  unit: string
  /** short free-form fields for the bar: loss, throughput… */
  fields?: Record<string, string>
}

export interface Reporter {
  progress(p: Progress): void
  /** one logged metrics row (the run folder's metrics.jsonl gets it separately) */
  metrics(row: Record<string, number | string>): void
  log(line: string): void
  /** aborted when the user cancels; the work stops at the next safe point (after a checkpoint) */
  signal: AbortSignal
}
