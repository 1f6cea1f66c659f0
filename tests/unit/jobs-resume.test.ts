/** A stopped job is resumed once (server side), and a job's ETA counts only the work it has done itself. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { etaSeconds } from '../../src/main/jobs/eta'
import type { EngineLauncher } from '../../src/main/jobs/launcher'
import type { HostMessage } from '../../src/main/jobs/protocol'
import { type JobRecord, JobRunner } from '../../src/main/jobs/runner'
import { toJob } from '../../src/main/api/services'

const root = mkdtempSync(join(tmpdir(), 'equiav-resume-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** An engine that reports the given progress, then waits to be cancelled (it exits when asked). */
function fakeEngine(progress: { done: number; total: number }[]): EngineLauncher {
  return () => {
    let exit: (code: number | null, signal: string | null) => void = () => undefined
    let message: (m: HostMessage) => void = () => undefined
    let alive = true
    return {
      send: (m) => {
        if ('type' in m && m.type === 'cancel') {
          alive = false
          setImmediate(() => {
            message({ type: 'result', result: null, cancelled: true })
            exit(0, null)
          })
        } else setImmediate(() => progress.forEach((p) => message({ type: 'progress', progress: { ...p, unit: 'steps' } })))
      },
      onMessage: (cb) => void (message = cb),
      onStderr: () => undefined,
      onExit: (cb) => void (exit = cb),
      running: () => alive,
      kill: () => undefined,
      pid: undefined,
      detach: () => undefined
    }
  }
}

const request = (workspace: string, run: string) =>
  ({ kind: 'pretrain', args: { workspace, run, preset: 'tiny', objective: 'equiav', steps: 400, batchSize: 2, lr: 1e-4, seed: 0, checkpointEvery: 5, resume: false } }) as const

describe('ETA', () => {
  it('is the work left at the rate since the job started: (total − done)·Δt/Δdone', () => {
    expect(etaSeconds({ done: 0, at: 0 }, { done: 100, at: 50_000 }, 400)).toBeCloseTo(150, 12)
    // the case: resumed at step 200 of 400, 20 steps done in 8 s since: 180 steps left at 0.4 s a step
    expect(etaSeconds({ done: 200, at: 1_000 }, { done: 220, at: 9_000 }, 400)).toBeCloseTo(72, 12)
    // dividing the time since the start by the absolute step instead would say (8 / 220)·180 ≈ 6.5 s
  })
  it('is unknown before any work since the start, and never negative', () => {
    expect(etaSeconds({ done: 200, at: 1_000 }, { done: 200, at: 5_000 }, 400)).toBeNull()
    expect(etaSeconds({ done: 0, at: 0 }, { done: 410, at: 1_000 }, 400)).toBe(0)
  })
  it("is measured from the progress a resumed job first reports, not from step 0", async () => {
    const runner = new JobRunner(join(root, 'eta'), 10, fakeEngine([{ done: 200, total: 400 }, { done: 220, total: 400 }]))
    const job = runner.start(request(join(root, 'eta'), 'r'))
    await new Promise<void>((ok) => runner.on('update', (r) => r.id === job.id && r.progress?.done === 220 && ok()))
    const rec = runner.get(job.id)
    expect(rec.progressBase?.done).toBe(200)
    // 8 s after that first report, 20 steps done since: 180 left at 0.4 s a step (the case)
    const now = vi.spyOn(Date, 'now').mockReturnValue(rec.progressBase!.at + 8_000)
    try {
      expect(toJob(rec).eta).toBeCloseTo(72, 9)
    } finally {
      now.mockRestore()
    }
    runner.cancel(job.id)
    await runner.idle()
  })
})

/** A runner on a workspace of its own with one job on run r, cancelled after its first progress. */
async function cancelledJob(workspace: string): Promise<{ runner: JobRunner; first: JobRecord }> {
  const runner = new JobRunner(workspace, 10, fakeEngine([{ done: 1, total: 400 }]))
  const first = runner.start(request(workspace, 'r'))
  await new Promise<void>((ok) => runner.on('update', (r) => r.id === first.id && r.progress && ok()))
  runner.cancel(first.id)
  await runner.idle()
  return { runner, first }
}

describe('Resume', () => {
  it('is accepted once: a second call names the job that continues it, and the record keeps that across a restart', async () => {
    const workspace = join(root, 'once')
    const { runner, first } = await cancelledJob(workspace)
    expect(toJob(runner.get(first.id))).toMatchObject({ state: 'cancelled', resumedBy: null })

    const second = runner.resume(first.id)
    expect(() => runner.resume(first.id)).toThrow(new RegExp(`job ${first.id} was already resumed as job ${second.id}`))
    expect(toJob(runner.get(first.id)).resumedBy).toBe(second.id)
    expect(toJob(second).resumes).toBe(first.id)
    expect(runner.list()).toHaveLength(2)
    await new Promise<void>((ok) => runner.on('update', (r) => r.id === second.id && r.state === 'running' && ok()))
    runner.cancel(second.id)
    await runner.idle()
    expect(new JobRunner(workspace, 10, fakeEngine([])).get(first.id).resumedBy).toBe(second.id)
  })
  it('is refused while another job trains the same run', async () => {
    const workspace = join(root, 'busy')
    const { runner, first } = await cancelledJob(workspace)
    const other = runner.start(request(workspace, 'r'))
    expect(() => runner.resume(first.id)).toThrow(new RegExp(`job ${other.id} is already (queued|running) on run r`))
    runner.cancel(other.id)
    await runner.idle()
  })
})
