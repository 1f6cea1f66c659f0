/**
 * What a training run does when things go wrong: a diverging update is never checkpointed, a run is
 * locked while a process trains it, resume falls back past a corrupt checkpoint, --resume --lr is honoured.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRETRAIN_DEFAULTS, type MetricsRow, type PretrainOptions, type RunConfig, runPretrain } from '../../src/main/engine/train/pretrain'
import { syntheticSource } from '../../src/main/engine/train/synthetic-source'
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../src/main/engine/checkpoint/store'
import { warmupCosineLr } from '../../src/main/engine/schedule'
import type { JobContext } from '../../src/main/jobs/context'
import { useTestBackend } from '../helpers/tf'
import { MICRO_MODEL } from '../helpers/micro'

let work: string
beforeAll(async () => {
  await useTestBackend()
  work = await mkdtemp(join(tmpdir(), 'equiav-faults-'))
})
afterAll(() => rm(work, { recursive: true, force: true }))

const source = syntheticSource(16, 0, MICRO_MODEL)

function context(logs: string[] = []): JobContext {
  return { signal: new AbortController().signal, log: (l) => logs.push(l), metrics: () => {}, progress: () => {} }
}

function options(runDir: string, steps: number, extra: Partial<PretrainOptions> = {}): PretrainOptions {
  return { ...PRETRAIN_DEFAULTS, runDir, preset: 'tiny', model: MICRO_MODEL, steps, batchSize: 4, lr: 1e-3, checkpointEvery: 1, keepCheckpoints: 0, resume: false, data: { kind: 'synthetic', clips: 16 }, ...extra }
}

async function metricSteps(runDir: string): Promise<number[]> {
  return (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as MetricsRow).step)
}

async function nonFinite(dir: string): Promise<number> {
  const { weights } = await loadCheckpoint(dir)
  return [...weights.values()].reduce((n, t) => n + t.data.filter((x) => !Number.isFinite(x)).length, 0)
}

describe('training faults', () => {
  // on engine workers the parameters live in the workers: each measures its share after the update
  it.each([1, 2])('stops a diverging run at the bad step without checkpointing it: the newest checkpoint stays the last good one (%i engine workers)', async (workers) => {
    const dir = join(work, `diverge-${workers}`)
    await runPretrain(options(dir, 2, { workers }), source, context())
    const logs: string[] = []
    const failed = runPretrain(options(dir, 6, { resume: true, lr: 1e38, workers }), source, context(logs))
    await expect(failed).rejects.toThrow(new RegExp(`training stopped: the update of step 3 .*Nothing after the last good step was checkpointed: the newest checkpoint is still ${join(dir, 'checkpoints', 'step-2')}`))
    const ckpts = await listCheckpoints(dir)
    expect(ckpts.map((c) => c.step)).toEqual([1, 2])
    for (const c of ckpts) expect(await nonFinite(c.dir)).toBe(0)
    expect(await metricSteps(dir)).toEqual([1, 2])
    // the lr change was asked for and is recorded, so the stop is explained by config.json
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as RunConfig
    expect(cfg.lrChanges).toMatchObject([{ step: 2, from: 1e-3, to: 1e38 }])
  })

  it('--resume with a new lr continues at it from the resumed step and records the change in config.json', async () => {
    const dir = join(work, 'lr')
    await runPretrain(options(dir, 2, { steps: 4 }), source, context()) // 4 planned, so the schedule is the same…
    await rm(join(dir, 'checkpoints', 'step-3'), { recursive: true })
    await rm(join(dir, 'checkpoints', 'step-4'), { recursive: true }) // …resume from step 2
    const logs: string[] = []
    await runPretrain(options(dir, 4, { resume: true, lr: 3e-3 }), source, context(logs))
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as RunConfig
    expect(cfg.lr).toBe(3e-3)
    expect(cfg.lrChanges).toMatchObject([{ step: 2, from: 1e-3, to: 3e-3 }])
    expect(logs).toContain('peak learning rate 0.001 → 0.003 from step 2 (recorded in config.json)')
    const rows = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as MetricsRow)
    const schedule = { warmupSteps: cfg.warmupSteps, totalSteps: 4 }
    expect(rows.map((r) => r.lr)).toEqual([
      warmupCosineLr(0, { ...schedule, baseLr: 1e-3 }),
      warmupCosineLr(1, { ...schedule, baseLr: 1e-3 }),
      warmupCosineLr(2, { ...schedule, baseLr: 3e-3 }),
      warmupCosineLr(3, { ...schedule, baseLr: 3e-3 })
    ])
    // resuming without --lr keeps the run's (now 3e-3) and records nothing new
    await runPretrain(options(dir, 5, { resume: true, lr: undefined }), source, context())
    expect((JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as RunConfig).lrChanges).toHaveLength(1)
  })

  it('refuses to train a run another live process holds, and clears the lock of a dead one', async () => {
    const dir = join(work, 'locked')
    await runPretrain(options(dir, 1), source, context())
    const holder = spawn('sleep', ['30'])
    try {
      await writeFile(join(dir, 'run.lock'), JSON.stringify({ pid: holder.pid, since: '2026-01-01T00:00:00.000Z', what: 'test' }))
      await expect(runPretrain(options(dir, 2, { resume: true }), source, context())).rejects.toThrow(
        `training run ${dir} is in use by process ${holder.pid} since 2026-01-01T00:00:00.000Z (lock ${join(dir, 'run.lock')})`
      )
      expect(await metricSteps(dir)).toEqual([1]) // nothing touched
    } finally {
      holder.kill()
    }
    const dead = spawnSync('true').pid
    await writeFile(join(dir, 'run.lock'), JSON.stringify({ pid: dead, since: '2026-01-01T00:00:00.000Z', what: 'test' }))
    const logs: string[] = []
    const r = await runPretrain(options(dir, 2, { resume: true }), source, context(logs))
    expect(r.finalStep).toBe(2)
    expect(logs).toContain(`cleared a stale lock ${join(dir, 'run.lock')} (process ${dead} is gone)`)
    await expect(readFile(join(dir, 'run.lock'))).rejects.toThrow(/ENOENT/) // released at the end
  })

  it('resumes from the newest intact checkpoint, saying which newer ones it skipped and why', async () => {
    const dir = join(work, 'fallback')
    await runPretrain(options(dir, 3), source, context())
    const step3 = join(dir, 'checkpoints', 'step-3')
    const weights = join(step3, 'weights.safetensors')
    const bytes = await readFile(weights)
    bytes[bytes.length - 5] ^= 0x40
    await writeFile(weights, bytes)
    // a checkpoint with non-finite weights, as a run diverging before the guard existed could leave
    const good = await loadCheckpoint(join(dir, 'checkpoints', 'step-2'))
    good.weights.values().next().value!.data[0] = NaN
    await saveCheckpoint(dir, 4, good)
    const logs: string[] = []
    const r = await runPretrain(options(dir, 5, { resume: true }), source, context(logs))
    expect(r).toMatchObject({ startStep: 2, finalStep: 5 })
    expect(logs).toContain(`skipped checkpoint ${join(dir, 'checkpoints', 'step-4')}: 1 of ${[...good.weights.values()].reduce((n, t) => n + t.data.length, 0)} weights are not finite`)
    expect(logs).toContain(`skipped checkpoint ${step3}: ${weights}: SHA-256 does not match state.json (corrupt)`)
    expect(logs).toContain(`resuming ${dir} from its checkpoint at step 2`)
    expect(await metricSteps(dir)).toEqual([1, 2, 3, 4, 5])
  })
})
