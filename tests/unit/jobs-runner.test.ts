import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/main/engine/config'
import { officialFromParams } from '../../src/main/engine/checkpoint/official'
import { serializeSafetensors } from '../../src/main/engine/checkpoint/safetensors'
import { createParams } from '../../src/main/engine/model'
import { useTestBackend } from '../helpers/tf'
import { JobRunner } from '../../src/main/jobs/runner'
import type { PretrainJobArgs } from '../../src/main/jobs/protocol'
import { contract } from '../../src/shared/contract'
import { workspaceServices } from '../../src/main/api/services'
import { readStepTimes } from '../../src/main/data/step-times'

beforeAll(useTestBackend)
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

  it('fails a job whose engine process is killed by a signal within seconds, with the signal and its last log lines, and runs the next', async () => {
    const runner = new JobRunner(workspace)
    const doomed = runner.start({ kind: 'pretrain', args: args('oom', { steps: 500, checkpointEvery: 1000 }) })
    const next = runner.start({ kind: 'pretrain', args: args('after-oom', { steps: 1 }) })
    await new Promise<void>((r) => {
      const onProgress = (rec: { id: string; progress?: { done: number } }): void => {
        if (rec.id === doomed.id && (rec.progress?.done ?? 0) >= 1) {
          runner.off('progress', onProgress)
          r()
        }
      }
      runner.on('progress', onProgress)
    })
    // the engine host: a child of this process running engine-host.ts (as the OOM killer would pick it)
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout
    const pid = Number(ps.split('\n').find((l) => l.includes('engine-host'))?.trim().split(/\s+/)[0])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, 'SIGKILL')
    const killedAt = Date.now()
    await new Promise<void>((r) => {
      const onUpdate = (rec: { id: string; state: string }): void => {
        if (rec.id === doomed.id && rec.state === 'failed') {
          runner.off('update', onUpdate)
          r()
        }
      }
      runner.on('update', onUpdate)
    })
    expect(Date.now() - killedAt).toBeLessThan(5000)
    expect(runner.get(doomed.id).error).toMatch(/^engine process killed by SIGKILL; last log: .+/)
    await runner.idle()
    expect(runner.get(next.id).state).toBe('done') // the queue is not blocked
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

  it('a job on 2 engine workers, cancelled and resumed on 1, matches a 1-worker job of the same steps', async () => {
    const runner = new JobRunner(workspace)
    const steps = 6
    runner.start({ kind: 'pretrain', args: args('one-worker', { steps, workers: 1, checkpointEvery: 1000 }) })
    await runner.idle()
    const two = runner.start({ kind: 'pretrain', args: args('two-then-one', { steps, workers: 2, checkpointEvery: 1000 }) })
    await new Promise<void>((resolve) => {
      runner.on('update', (rec) => {
        if (rec.id === two.id && (rec.progress?.done ?? 0) >= 2) resolve()
      })
    })
    runner.cancel(two.id)
    await runner.idle()
    expect(runner.get(two.id).state).toBe('cancelled')
    expect(runner.get(two.id).log.join('\n')).toMatch(/steps run on 2 engine workers/)
    const rest = runner.start({ kind: 'pretrain', args: args('two-then-one', { steps, workers: 1, checkpointEvery: 1000, resume: true }) })
    await runner.idle()
    expect(runner.get(rest.id).state).toBe('done')
    expect(runner.get(rest.id).log.join('\n')).toMatch(/from its checkpoint at step [1-5]\b/)
    const rows = (run: string): Record<string, number>[] =>
      readFileSync(join(workspace, 'runs', run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
    const [expected, actual] = [rows('one-worker'), rows('two-then-one')]
    expect(actual.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6])
    for (const [i, row] of actual.entries()) {
      for (const k of ['loss', 'loss_inter', 'loss_intra_a', 'loss_intra_v', 'grad_norm', 'spread_a', 'spread_v', 'lr']) {
        expect(Math.abs(row[k] - expected[i][k]), `${k} at step ${row.step}`).toBeLessThan(1e-5)
      }
    }
  })

  it('fine-tunes a pretraining run in its own process; the run is listed with its lineage and resumes from its checkpoint', async () => {
    const runner = new JobRunner(workspace)
    const pre = runner.start({ kind: 'pretrain', args: args('pre', { steps: 1 }) })
    const metrics: unknown[] = []
    runner.on('metrics', (id, row) => id !== pre.id && metrics.push(row))
    const ftArgs = { workspace, run: 'ft', from: 'pre', syntheticClips: 8, modality: 'audio' as const, linearProbe: true, steps: 2, batchSize: 2, checkpointEvery: 1 }
    const ft = runner.start({ kind: 'finetune', args: ftArgs })
    await runner.idle()
    expect(runner.get(pre.id).state).toBe('done')
    expect(runner.get(ft.id)).toMatchObject({ state: 'done', progress: { done: 2, total: 2, unit: 'step' } })
    expect(metrics).toHaveLength(2)
    const config = JSON.parse(readFileSync(join(workspace, 'runs', 'ft', 'config.json'), 'utf8'))
    expect(config).toMatchObject({ kind: 'finetune', modality: 'audio', linearProbe: true, loss: 'bce', lr: 1e-3, lineage: { from: 'pre', kind: 'run', step: 1 } })

    // the Runs table lists it (its rows have no pretraining terms) with its lineage
    const services = workspaceServices(workspace, 'test', runner)
    const runs = contract['runs.list'].output.parse(await services['runs.list']({}))
    expect(runs.find((r) => r.name === 'ft')).toMatchObject({ kind: 'finetune', objective: 'linear probe audio, bce', totalSteps: 2, last: { step: 2 } })
    expect(runs.find((r) => r.name === 'pre')).toMatchObject({ kind: 'pretrain', objective: 'equiav' })
    const lineage = contract['runs.retrieval'].output.parse(await services['runs.retrieval']({}))
    expect(lineage.find((r) => r.run === 'ft')?.lineage).toEqual({ from: 'pre', kind: 'run', step: 1 })

    // resume continues the same run from its checkpoint (here: already at its last step)
    const again = runner.resume(ft.id)
    expect(again.request).toMatchObject({ kind: 'finetune', args: { ...ftArgs, resume: true } })
    await runner.idle()
    expect(runner.get(again.id).state).toBe('done')
    expect(runner.get(again.id).log.join('\n')).toMatch(/from its checkpoint at step 2/)
  })

  it('fine-tunes an official checkpoint file started through the API, recording the file as the lineage', async () => {
    const file = join(workspace, 'EquiAV-tiny.safetensors')
    const params = createParams(PRESETS.tiny, 3)
    writeFileSync(file, serializeSafetensors(officialFromParams(params, PRESETS.tiny)))
    params.forEach((v) => v.dispose())
    const runner = new JobRunner(workspace)
    const services = workspaceServices(workspace, 'test', runner)
    const start = (args: Record<string, unknown>): ReturnType<(typeof services)['jobs.start']> =>
      services['jobs.start'](contract['jobs.start'].input.parse({ kind: 'finetune', args: { run: 'ft-file', syntheticClips: 8, modality: 'visual', linearProbe: true, steps: 1, batchSize: 2, ...args } }))
    await expect(start({ fromCheckpoint: join(workspace, 'absent.pth'), preset: 'tiny' })).rejects.toThrow(/^fromCheckpoint: no file .*absent\.pth/)
    const job = await start({ fromCheckpoint: file, preset: 'tiny' })
    await runner.idle()
    expect(runner.get(job.id).error ?? 'done').toBe('done')
    const config = JSON.parse(readFileSync(join(workspace, 'runs', 'ft-file', 'config.json'), 'utf8'))
    expect(config).toMatchObject({ kind: 'finetune', preset: 'tiny', modality: 'visual', lineage: { from: file, kind: 'checkpoint', step: null } })
  })

  it('reports a fine-tuning job whose source run does not exist', async () => {
    const runner = new JobRunner(workspace)
    const job = runner.start({ kind: 'finetune', args: { workspace, run: 'ft-bad', from: 'nowhere', steps: 1, batchSize: 2 } })
    await runner.idle()
    expect(runner.get(job.id).error).toMatch(/no run "nowhere"/)
  })

  it('measures seconds per step in an engine process and caches them for the Train forms', async () => {
    const runner = new JobRunner(workspace)
    const pre = runner.start({ kind: 'estimate', args: { workspace, task: 'pretrain', preset: 'tiny', batchSize: 2 } })
    const probe = runner.start({ kind: 'estimate', args: { workspace, task: 'linear-probe', preset: 'tiny', batchSize: 2 } })
    await runner.idle()
    expect(runner.get(pre.id)).toMatchObject({ state: 'done', progress: { done: 2, total: 2 } })
    expect(runner.get(probe.id).error ?? 'done').toBe('done')
    const times = readStepTimes(workspace)
    const backend = times.backend ?? ''
    expect(backend).toMatch(/^(wasm|cpu|tensorflow|tensorflow-gpu)$/)
    const spp = (task: string): number => times.entries[`${backend}/${task}/tiny/2`]?.secondsPerStep ?? NaN
    expect(spp('pretrain')).toBeGreaterThan(0)
    expect(spp('linear-probe')).toBeGreaterThan(0)
    const est = await workspaceServices(workspace, 'test', runner)['train.estimate']({ task: 'pretrain', preset: 'tiny', batchSize: 2, syntheticClips: 8 })
    expect(est).toMatchObject({ backend, secondsPerStep: spp('pretrain'), stepsPerEpoch: 4, secondsPerEpoch: 4 * spp('pretrain') })
  })
})
