/**
 * The events every connected page receives: job state, progress, log lines and metrics rows, taken from
 * the job runner, checked against the contract, and fanned out to each transport's listeners.
 */
import { type EventName, type EventPayload, MetricsRowSchema, describeIssues, eventsContract } from '../../shared/contract'
import type { EventEmitter } from 'node:events'
import type { JobRecord } from '../jobs/runner'
import { toJob } from './services/jobs'

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void

export class EventHub {
  private readonly listeners = new Set<EventListener>()

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Sends a payload that the contract's schema accepts; a malformed one is a bug and throws here. */
  publish<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = eventsContract[event].safeParse(payload)
    if (!checked.success) throw new Error(`event ${event}: ${describeIssues(checked.error)}`)
    for (const l of this.listeners) {
      try {
        l(event, checked.data as EventPayload<E>)
      } catch (err) {
        // one broken page (a closed socket, a destroyed window) must not stop the others
        process.stderr.write(`event ${event}: a listener failed: ${err instanceof Error ? err.message : String(err)}\n`)
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}

/** Publishes what the runner reports: a state change once, progress each time, metrics as rows of their run. */
/** The runner's members this uses (a fake in tests). */
export interface JobEventSource {
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
  get(id: string): JobRecord
}
type Listener = Parameters<EventEmitter['on']>[1]

export function publishJobEvents(runner: JobEventSource, hub: EventHub): () => void {
  const lastState = new Map<string, string>()
  const onUpdate = (rec: JobRecord): void => {
    // a state change, or a stopped job that has just been resumed (it no longer offers Resume)
    const key = `${rec.state} ${rec.resumedBy ?? ''}`
    if (lastState.get(rec.id) === key) return
    lastState.set(rec.id, key)
    hub.publish('job.state', toJob(rec))
  }
  const onProgress = (rec: JobRecord): void => {
    const j = toJob(rec)
    if (j.progress) hub.publish('job.progress', { id: j.id, progress: j.progress, eta: j.eta })
  }
  const onMetrics = (id: string, row: unknown): void => {
    const rec = runner.get(id)
    const parsed = MetricsRowSchema.safeParse(row)
    if ((rec.request.kind === 'pretrain' || rec.request.kind === 'finetune') && parsed.success) hub.publish('run.metrics', { run: rec.request.args.run, rows: [parsed.data] })
  }
  const onLog = (id: string, text: string): void => {
    const lines = text.split('\n').filter((l) => l.trim())
    if (lines.length) hub.publish('job.log', { id, lines })
  }
  // the runner emits from its process handlers: a bad event is reported, never thrown into the runner
  const guarded = (fn: (...args: never[]) => void): Listener => (...args: unknown[]) => {
    try {
      ;(fn as (...a: unknown[]) => void)(...args)
    } catch (err) {
      process.stderr.write(`job events: ${err instanceof Error ? err.message : String(err)}\n`)
    }
  }
  const wired: [string, Listener][] = [
    ['update', guarded(onUpdate)],
    ['progress', guarded(onProgress)],
    ['metrics', guarded(onMetrics)],
    ['log', guarded(onLog)]
  ]
  for (const [event, l] of wired) runner.on(event, l)
  return () => {
    for (const [event, l] of wired) runner.off(event, l)
  }
}
