import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { JobRunner } from '../../src/main/jobs/runner'
import type { PretrainJobArgs } from '../../src/main/jobs/protocol'

const workspace = mkdtempSync(join(tmpdir(), 'equiav-jobs-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

const args = (run: string, extra: Partial<PretrainJobArgs> = {}): PretrainJobArgs => ({
  workspace,
  run,
  preset: 'tiny',
  objective: 'equiav',
  steps: 2,
  batchSize: 2,
  lr: 5e-4,
  seed: 0,
  checkpointEvery: 1,
  resume: false,
  syntheticClips: 4,
  ...extra
})

describe('JobRunner', () => {
  it('runs a pretraining job in its own process and streams progress and metrics', async () => {
    const runner = new JobRunner(workspace)
    const metrics: unknown[] = []
    runner.on('metrics', (_id, row) => metrics.push(row))
    const job = runner.start({ kind: 'pretrain', args: args('ok') })
    expect(job.state).toBe('running')
    await runner.idle()
    expect(runner.get(job.id)).toMatchObject({ state: 'done', progress: { done: 2, total: 2 } })
    expect(metrics).toHaveLength(2)
    expect(existsSync(join(workspace, 'runs', 'ok', 'checkpoints', 'step-2'))).toBe(true)
    const saved = JSON.parse(readFileSync(join(workspace, 'jobs', `${job.id}.json`), 'utf8'))
    expect(saved.state).toBe('done')
  })

  it('reports a crashed job with its last log lines', async () => {
    const runner = new JobRunner(workspace)
    const job = runner.start({ kind: 'pretrain', args: args('bad', { dataset: 'missing' }) })
    await runner.idle()
    expect(runner.get(job.id).state).toBe('failed')
    expect(runner.get(job.id).error).toMatch(/exited with code 1; last log: .*no dataset "missing"/)
  })

  it('cancels a running job after a checkpoint, queues the next, and resumes the cancelled one', async () => {
    const runner = new JobRunner(workspace)
    const long = runner.start({ kind: 'pretrain', args: args('long', { steps: 500, checkpointEvery: 1000 }) })
    const queued = runner.start({ kind: 'pretrain', args: args('after') })
    expect(runner.get(queued.id).state).toBe('queued')
    await new Promise<void>((resolve) => {
      runner.on('update', (rec) => {
        if (rec.id === long.id && (rec.progress?.done ?? 0) >= 1) resolve()
      })
    })
    runner.cancel(long.id)
    await runner.idle()
    expect(runner.get(long.id).state).toBe('cancelled')
    expect(runner.get(queued.id).state).toBe('done')
    const ckpts = readdirSync(join(workspace, 'runs', 'long', 'checkpoints'))
    expect(ckpts.length).toBe(1) // checkpointed where it stopped
    const stoppedAt = Number(ckpts[0].replace('step-', ''))

    const resumed = runner.resume(long.id)
    await new Promise<void>((resolve) => {
      runner.on('update', (rec) => {
        if (rec.id === resumed.id && (rec.progress?.done ?? 0) > stoppedAt) resolve()
      })
    })
    runner.cancel(resumed.id)
    await runner.idle()
    expect(runner.get(resumed.id).log.join('\n')).toMatch(new RegExp(`from its checkpoint at step ${stoppedAt}`))

    // a fresh runner (the app reopened) lists the same jobs
    expect(new JobRunner(workspace).list().map((j) => j.id)).toEqual(runner.list().map((j) => j.id))
  })
})
