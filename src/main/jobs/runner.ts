/**
 * Runs jobs in their own engine processes, one at a time from a queue, never on the caller's thread.
 * Cancel is a message (the job checkpoints and returns), then a kill after a grace period. A crash is
 * reported with the job's last log lines; any job can be resumed. Records live in <workspace>/jobs/ so
 * they outlive the window and the server: when the server that ran a job has died (a crash, a kill), the
 * engine process checkpoints and exits (engine-host.ts), and the next runner on the workspace continues
 * the job from that checkpoint once the old engine process is gone.
 */
import { EventEmitter } from 'node:events'
import { mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { processAlive } from '../util/pid-lock'
import { writeJsonAtomic } from '../util/atomic'
import type { Progress } from '../engine/report'
import type { ProgressMark } from './eta'
import { type EngineLauncher, type EngineProcess, forkLauncher } from './launcher'
import type { HostMessage, JobRequest } from './protocol'

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

export interface JobRecord {
  id: string
  request: JobRequest
  state: JobState
  created: string
  started?: string
  ended?: string
  progress?: Progress
  /** the last lines the job logged (a crash report shows them) */
  log: string[]
  error?: string
  result?: unknown
  /** the process of the runner that started it, and its engine process */
  owner?: number
  engine?: number
  /** continued after its runner died: start it only once this engine process (the one it ran in) has exited */
  waitFor?: number
  /** the job that continues this one (set by resume; a job is resumed once) */
  resumedBy?: string
  /** the job this one continues */
  resumes?: string
  /** the progress first reported since this job (re)started, and when: the ETA counts only the work done since */
  progressBase?: ProgressMark
}

const LOG_LINES = 40

/** The run a training job writes: two jobs on one run never queue together through resume. */
function targetOf(r: JobRequest): string | null {
  return r.kind === 'pretrain' || r.kind === 'finetune' ? `run ${r.args.run}` : null
}

export class JobRunner extends EventEmitter {
  private readonly jobs = new Map<string, JobRecord>()
  private readonly dir: string
  private current: { id: string; child: EngineProcess; cancelRequested: boolean } | null = null
  private waiting: NodeJS.Timeout | null = null
  private detached = false
  private counter = 0
  /** record writes in order, so an older state never lands after a newer one */
  private saving: Promise<void> = Promise.resolve()

  constructor(
    workspace: string,
    private readonly graceMs = 10_000,
    private readonly launch: EngineLauncher = forkLauncher
  ) {
    super()
    this.dir = join(workspace, 'jobs')
    mkdirSync(this.dir, { recursive: true })
    let orphans = false
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.json'))) {
      const rec = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as JobRecord
      this.jobs.set(rec.id, rec)
      // a live runner (another server on this workspace, or this process) still owns its jobs
      if ((rec.state !== 'running' && rec.state !== 'queued') || (rec.owner !== undefined && processAlive(rec.owner))) continue
      orphans = true
      if (rec.state === 'running') this.continueOrphan(rec)
    }
    if (orphans) setImmediate(() => this.pump())
  }

  /** A job whose runner died mid-run: queued again to continue from its checkpoint once its engine process has gone. */
  private continueOrphan(rec: JobRecord): void {
    const r = rec.request
    rec.request = r.kind === 'pretrain' ? { ...r, args: { ...r.args, resume: true } } : r.kind === 'finetune' ? { ...r, args: { ...r.args, resume: true } } : r
    rec.state = 'queued'
    rec.waitFor = rec.engine
    rec.log.push(`the workbench stopped while this job ran (process ${rec.owner ?? '?'}); continuing it from its last checkpoint`)
    this.save(rec)
  }

  list(): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => a.created.localeCompare(b.created))
  }

  get(id: string): JobRecord {
    const rec = this.jobs.get(id)
    if (!rec) throw new Error(`no job ${id}`)
    return rec
  }

  /** Queues a job; `resumes` names the stopped job it continues. */
  start(request: JobRequest, resumes?: string): JobRecord {
    const id = `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}-${++this.counter}`
    const rec: JobRecord = { id, request, state: 'queued', created: new Date().toISOString(), log: [], owner: process.pid, ...(resumes ? { resumes } : {}) }
    this.jobs.set(id, rec)
    this.save(rec)
    this.pump()
    return rec
  }

  /**
   * A new job continuing a stopped one from its last checkpoint. A job is resumed once: a second call (a
   * double click, a second window) is refused, as is one while another job on the same run is queued or running.
   */
  resume(id: string): JobRecord {
    const old = this.get(id)
    if (old.state === 'running' || old.state === 'queued') throw new Error(`job ${id} is still ${old.state}`)
    if (old.resumedBy) throw new Error(`job ${id} was already resumed as job ${old.resumedBy}`)
    const r = old.request
    const target = targetOf(r)
    const busy = target && this.list().find((j) => j.id !== id && (j.state === 'queued' || j.state === 'running') && targetOf(j.request) === target)
    if (busy) throw new Error(`job ${busy.id} is already ${busy.state} on ${target}`)
    // an import resumes by itself (files already in the catalog are skipped); a training run from its checkpoint
    const next = this.start(r.kind === 'pretrain' ? { ...r, args: { ...r.args, resume: true } } : r.kind === 'finetune' ? { ...r, args: { ...r.args, resume: true } } : r, id)
    old.resumedBy = next.id
    this.save(old)
    return next
  }

  cancel(id: string): JobRecord {
    const rec = this.get(id)
    if (rec.state === 'queued') this.finish(rec, 'cancelled')
    else if (rec.state === 'running' && this.current?.id === id) {
      this.current.cancelRequested = true
      const child = this.current.child
      child.send({ type: 'cancel' })
      setTimeout(() => child.running() && child.kill(), this.graceMs).unref()
    }
    return rec
  }

  /**
   * The server is stopping: the running engine process is let go (it checkpoints its job and exits by
   * itself), nothing more is started, and the job stays `running` on disk for the next runner to continue.
   */
  detach(): Promise<void> {
    this.detached = true
    if (this.waiting) clearTimeout(this.waiting)
    this.current?.child.detach()
    return this.saving
  }

  /** Resolves when no job is queued or running and every record is on disk (tests, shutdown). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.current && !this.list().some((j) => j.state === 'queued')) {
          this.off('update', check)
          void this.saving.then(resolve)
        }
      }
      this.on('update', check)
      check()
    })
  }

  private pump(): void {
    if (this.current || this.waiting || this.detached) return
    const next = this.list().find((j) => j.state === 'queued')
    if (!next) return
    if (next.waitFor !== undefined && processAlive(next.waitFor)) {
      // the engine process of the server that died is still writing its checkpoint
      this.waiting = setTimeout(() => {
        this.waiting = null
        this.pump()
      }, 200)
      return
    }
    const child = this.launch()
    const running = { id: next.id, child, cancelRequested: false }
    this.current = running
    next.state = 'running'
    next.started = new Date().toISOString()
    next.owner = process.pid
    next.engine = child.pid
    delete next.waitFor
    delete next.progressBase
    this.save(next)
    child.onStderr((text) => this.addLog(next, text))
    let cancelled = false
    child.onMessage((m: HostMessage) => {
      if (m.type === 'progress') {
        next.progress = m.progress
        next.progressBase ??= { done: m.progress.done, at: Date.now() }
        this.emit('progress', next)
        this.emit('update', next)
      } else if (m.type === 'metrics') this.emit('metrics', next.id, m.row)
      else if (m.type === 'log') this.addLog(next, m.line)
      else if (m.type === 'result') {
        next.result = m.result
        cancelled = m.cancelled
      }
    })
    child.send(next.request)
    child.onExit((code, signal) => {
      if (this.detached) return // its next runner continues it
      this.current = null
      if (code === 0) this.finish(next, cancelled ? 'cancelled' : 'done')
      else if (running.cancelRequested) this.finish(next, 'cancelled')
      else {
        next.error = `engine process ${signal ? `killed by ${signal}` : `exited with code ${code}`}${next.log.length ? `; last log: ${next.log.slice(-3).join(' | ')}` : ''}`
        this.finish(next, 'failed')
      }
      this.pump()
    })
  }

  private addLog(rec: JobRecord, text: string): void {
    for (const line of text.split('\n').filter((l) => l.trim())) rec.log.push(line)
    rec.log.splice(0, Math.max(0, rec.log.length - LOG_LINES))
    this.emit('log', rec.id, text)
  }

  private finish(rec: JobRecord, state: JobState): void {
    rec.state = state
    rec.ended = new Date().toISOString()
    this.save(rec)
  }

  private save(rec: JobRecord): void {
    const snapshot = JSON.parse(JSON.stringify(rec)) as JobRecord
    this.saving = this.saving.then(() => writeJsonAtomic(join(this.dir, `${rec.id}.json`), snapshot)).catch((err: Error) => {
      this.emit('log', rec.id, `could not save the job record: ${err.message}`)
    })
    this.emit('update', rec)
  }
}
