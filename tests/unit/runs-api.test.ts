/** runs.list's config columns and runs.detail: a run's config, lineage, derived runs, checkpoints and evaluations. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { JobRunner } from '../../src/main/jobs/runner'
import { pretrainConfigFixture } from '../helpers/runs'

const workspace = mkdtempSync(join(tmpdir(), 'equiav-runs-api-'))
const router = createRouter(workspaceServices(workspace, '1', new JobRunner(workspace)))
const metrics = { 'R@1': 5, 'R@5': 20, 'R@10': 30, median_rank: 12 }

beforeAll(() => {
  const p1 = join(workspace, 'runs', 'p1')
  mkdirSync(join(p1, 'checkpoints', 'step-5'), { recursive: true })
  writeFileSync(
    join(p1, 'config.json'),
    JSON.stringify(pretrainConfigFixture({ run: 'p1', objective: 'inter-only', batchSize: 8, lr: 4e-4, seed: 3, timeRoll: false, totalSteps: 48, stepsPerEpoch: 16, workers: 2, data: { kind: 'dataset', name: 'demo', describe: 'demo (train)', size: 256 } }))
  )
  writeFileSync(join(p1, 'checkpoints', 'step-5', 'state.json'), JSON.stringify({ savedAt: '2026-01-02T03:04:05.000Z' }))
  mkdirSync(join(p1, 'checkpoints', 'step-9.tmp-1'), { recursive: true }) // being written: not listed
  writeFileSync(join(p1, 'retrieval-demo-test-original.json'), JSON.stringify({ run: 'p1', step: 5, dataset: 'demo', split: 'test', embedding: 'original', n: 240, a2v: metrics, v2a: metrics, per_class: {}, ids: ['a'], top: {} }))
  const f1 = join(workspace, 'runs', 'f1')
  mkdirSync(f1, { recursive: true })
  const { objective: _o, clipNorm: _c, tau: _t, lossWeights: _w, timeRoll: _r, ...base } = pretrainConfigFixture({ run: 'f1' })
  writeFileSync(
    join(f1, 'config.json'),
    JSON.stringify({ ...base, kind: 'finetune', lineage: { from: 'p1', kind: 'run', step: 5 }, modality: 'audio', linearProbe: true, loss: 'ce', mixup: 0, classes: ['a'], schedule: 'warmup-cosine', data: { kind: 'synthetic', clips: 4, describe: 'synthetic', size: 4, evalSplit: null, evalDescribe: null } })
  )
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('runs API', () => {
  it('lists each run with the settings of its config.json the table offers as columns', async () => {
    const [f1, p1] = (await router('runs.list', {})) as { name: string; settings: Record<string, unknown> }[]
    expect(p1.settings).toEqual({
      lr: 4e-4, batchSize: 8, S: 16, timeRoll: false, seed: 3, dataset: 'demo', epochs: 3, stepsPerEpoch: 16,
      lossWeights: { inter: 1 / 3, intraA: 1 / 3, intraV: 1 / 3 }, warmupSteps: 1, tau: 0.07, workers: 2, init: null
    })
    expect(f1.settings).toMatchObject({ S: null, tau: null, timeRoll: null, lossWeights: null, dataset: 'synthetic', init: 'p1', workers: 1 })
  })
  it("gives a run's page: its config, the runs fine-tuned from it, its complete checkpoints and its evaluations", async () => {
    const d = (await router('runs.detail', { run: 'p1' })) as Record<string, unknown>
    expect(d).toMatchObject({ run: 'p1', lineage: null, derived: ['f1'], checkpoints: [{ step: 5, savedAt: '2026-01-02T03:04:05.000Z' }] })
    expect(d.config).toMatchObject({ objective: 'inter-only', batchSize: 8 })
    expect(d.evaluations).toEqual([expect.objectContaining({ dataset: 'demo', split: 'test', n: 240, embedding: 'original', a2v: metrics })])
    expect(await router('runs.detail', { run: 'f1' })).toMatchObject({ lineage: { from: 'p1', kind: 'run', step: 5 }, derived: [], checkpoints: [], evaluations: [] })
  })
  it('names the folder of a run that does not exist', async () => {
    await expect(router('runs.detail', { run: 'nope' })).rejects.toThrow(/runs[\\/]nope: not a run folder \(no config.json\)/)
    await expect(router('runs.detail', { run: '../x' })).rejects.toThrow(/run: a run name/)
  })
})
