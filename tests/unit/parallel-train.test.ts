/**
 * Data-parallel engine workers: a run on N workers equals the one-thread run on the same batches
 * (metrics rows and the saved weights and AdamW moments within 1e-5), cancel/resume works across a change
 * of N, and a worker that throws or stops fails the job with an error naming it instead of hanging.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { FINETUNE_DEFAULTS, type InFolder, PRETRAIN_DEFAULTS, finetuneIn, pretrainIn } from '../helpers/runs'
import { loadLatestCheckpoint } from '../../src/main/runs/checkpoints'
import type { TensorDict } from '../../src/main/engine/checkpoint/tensors'
import { embedClips } from '../../src/main/engine/eval/embed'
import type { FinetuneOptions } from '../../src/main/engine/finetune/loop'
import { createParams } from '../../src/main/engine/model'
import { AdamW } from '../../src/main/engine/optim'
import { derivedRng } from '../../src/main/engine/train/data-source'
import { EnginePool } from '../../src/main/engine/train/parallel/pool'
import { splitRows } from '../../src/main/engine/train/parallel/shared'
import { defaultWorkers, resolveWorkers } from '../../src/main/engine/train/parallel/stepper'
import type { PretrainOptions } from '../../src/main/engine/train/pretrain'
import { toTensorDict } from '../../src/main/engine/checkpoint/params'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../../src/main/engine/losses'
import { syntheticClip } from '../../src/main/engine/train/synthetic'
import { syntheticHeldOut, syntheticSource } from '../../src/main/engine/train/synthetic-source'
import { collateBatch } from '../../src/main/engine/train/views'
import type { Objective } from '../../src/main/engine/types'
import type { Reporter } from '../../src/main/engine/report'
import { MICRO_MODEL } from '../helpers/micro'
import { useTestBackend } from '../helpers/tf'

let work: string
beforeAll(async () => {
  await useTestBackend()
  work = await mkdtemp(join(tmpdir(), 'equiav-parallel-'))
})
afterAll(() => rm(work, { recursive: true, force: true }))
afterEach(() => vi.restoreAllMocks())

const TOLERANCE = 1e-5

function quiet(onStep?: (done: number, controller: AbortController) => void): Reporter {
  const controller = new AbortController()
  return { signal: controller.signal, log: () => {}, metrics: () => {}, progress: (p) => onStep?.(p.done, controller) }
}

type Row = Record<string, number | string>
async function rows(runDir: string): Promise<Row[]> {
  return (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Row)
}

/**
 * Every numeric field of the rows but the timing ones, which differ run to run: within 1e-5, relative for
 * values above 1 (the gradient norm, ~20 here, sums millions of float32 squares in another order: a few ulps).
 */
function expectSameRows(actual: Row[], expected: Row[]): void {
  expect(actual.map((r) => r.step)).toEqual(expected.map((r) => r.step))
  actual.forEach((row, i) => {
    for (const [k, v] of Object.entries(expected[i])) {
      if (k === 'clips_per_s' || k === 'time') continue
      if (typeof v === 'number') expect(Math.abs((row[k] as number) - v), `${k} at step ${row.step}`).toBeLessThan(TOLERANCE * Math.max(1, Math.abs(v)))
      else expect(row[k]).toEqual(v)
    }
  })
}

function worstDifference(a: TensorDict, b: TensorDict): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort())
  let worst = 0
  for (const [name, t] of a) {
    const u = b.get(name)!.data
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - u[i]))
  }
  return worst
}

async function expectSameCheckpoints(runA: string, runB: string): Promise<void> {
  const [a, b] = [await loadLatestCheckpoint(runA), await loadLatestCheckpoint(runB)]
  expect((a!.state as { step: number }).step).toBe((b!.state as { step: number }).step)
  expect(worstDifference(a!.weights, b!.weights)).toBeLessThan(TOLERANCE)
  expect(worstDifference(a!.optimizer, b!.optimizer)).toBeLessThan(TOLERANCE)
}

function pretrainOptions(runDir: string, objective: Objective, workers: number, extra: Partial<InFolder<PretrainOptions>> = {}): InFolder<PretrainOptions> {
  return {
    ...PRETRAIN_DEFAULTS,
    runDir,
    preset: 'tiny',
    model: MICRO_MODEL,
    objective,
    steps: 3,
    batchSize: 5, // 3 + 2 rows on two workers
    lr: 1e-3,
    checkpointEvery: 100,
    workers,
    resume: false,
    data: { kind: 'synthetic', clips: 20 },
    ...extra
  }
}

describe('how a batch is split, and how many workers', () => {
  it('gives contiguous rows, sizes differing by at most one, covering the batch', () => {
    expect(splitRows(5, 2)).toEqual([{ start: 0, count: 3 }, { start: 3, count: 2 }])
    expect(splitRows(16, 3)).toEqual([{ start: 0, count: 6 }, { start: 6, count: 5 }, { start: 11, count: 5 }])
    expect(splitRows(1, 2)).toEqual([{ start: 0, count: 1 }, { start: 1, count: 0 }])
  })

  it('uses what is asked, refuses what cannot be split, and defaults to the cores on wasm (at most the batch)', async () => {
    expect(await resolveWorkers(3, 16)).toBe(3)
    await expect(resolveWorkers(0, 16)).rejects.toThrow(/workers must be a whole number ≥ 1, got 0/)
    await expect(resolveWorkers(5, 4)).rejects.toThrow(/a batch of 4 clips cannot be split over 5 engine workers/)
    const threadedKernels = !['wasm', 'cpu'].includes((await useTestBackend()).name) // tfjs-node: one worker
    expect(await resolveWorkers(undefined, 64)).toBe(threadedKernels ? 1 : Math.min(64, availableParallelism()))
    expect(await resolveWorkers(undefined, 1)).toBe(1)
    expect(defaultWorkers({ name: 'tensorflow' })).toBe(1)
  })
})

describe('pretraining on engine workers', () => {
  it.each(['equiav', 'invariant', 'inter-only'] as const)('%s: 2 workers give the 1-worker metrics and weights', async (objective) => {
    const source = syntheticSource(20, 0, MICRO_MODEL)
    const one = join(work, `${objective}-1`)
    const two = join(work, `${objective}-2`)
    await pretrainIn(pretrainOptions(one, objective, 1), source, quiet())
    await pretrainIn(pretrainOptions(two, objective, 2), source, quiet())
    expectSameRows(await rows(two), await rows(one))
    await expectSameCheckpoints(two, one)
    expect(JSON.parse(await readFile(join(two, 'config.json'), 'utf8')).workers).toBe(2)
  })

  it('a run on 2 workers cancelled and resumed on 1 matches an uninterrupted 1-worker run', async () => {
    const source = syntheticSource(20, 0, MICRO_MODEL)
    const straight = join(work, 'straight')
    const split = join(work, 'split')
    await pretrainIn(pretrainOptions(straight, 'equiav', 1, { steps: 5 }), source, quiet())
    const stopped = await pretrainIn(pretrainOptions(split, 'equiav', 2, { steps: 5 }), source, quiet((done, c) => done === 2 && c.abort()))
    expect(stopped).toMatchObject({ cancelled: true, finalStep: 2 })
    const resumed = await pretrainIn(pretrainOptions(split, 'equiav', 1, { steps: 5, resume: true }), source, quiet())
    expect(resumed).toMatchObject({ cancelled: false, startStep: 2, finalStep: 5 })
    expectSameRows(await rows(split), await rows(straight))
    await expectSameCheckpoints(split, straight)
    expect(JSON.parse(await readFile(join(split, 'config.json'), 'utf8')).workers).toBe(1)
  })

  it('a worker that stops mid-run fails the job with its name, keeping the last checkpoint', async () => {
    const original = EnginePool.prototype.pretrainStep
    let calls = 0
    vi.spyOn(EnginePool.prototype, 'pretrainStep').mockImplementation(function (this: EnginePool, batch, s) {
      if (++calls === 3) void this.threads[1].terminate()
      return original.call(this, batch, s)
    })
    const dir = join(work, 'dies')
    const run = pretrainIn(pretrainOptions(dir, 'equiav', 2, { steps: 4, checkpointEvery: 2 }), syntheticSource(20, 0, MICRO_MODEL), quiet())
    await expect(run).rejects.toThrow(/engine worker 2 of 2 stopped unexpectedly/)
    expect((await rows(dir)).map((r) => r.step)).toEqual([1, 2])
    expect(((await loadLatestCheckpoint(dir))!.state as { step: number }).step).toBe(2)
  })
})

describe('an engine pool whose worker fails', () => {
  const c = MICRO_MODEL
  const batch = collateBatch([0, 1, 2, 3].map((i) => syntheticClip(i, 0, c)), derivedRng(0, 'step', 0), c)
  const settings = { objective: 'equiav' as const, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 0.01, lr: 1e-3 }

  async function pool(): Promise<EnginePool> {
    const params = createParams(c, 1)
    const optimizer = new AdamW(params)
    try {
      return await EnginePool.start({ workers: 2, backend: 'wasm', model: { kind: 'pretrain', config: c, objective: 'equiav' }, params, optimizer })
    } finally {
      params.forEach((v) => v.dispose())
      optimizer.dispose()
    }
  }

  it('names the worker and its error when it throws, and stays failed', async () => {
    const p = await pool()
    // arrays that do not split into the batch's rows are refused before any worker is sent a part
    await expect(p.pretrainStep({ ...batch, tV: batch.tV.subarray(0, batch.tV.length - 1) }, settings)).rejects.toThrow(/the batch's tV has \d+ values, not 4 equal rows/)
    // rows one value short make a worker's input tensor throw; the other is released from its wait
    const bad = { ...batch, tV: batch.tV.subarray(0, batch.tV.length - 4) }
    await expect(p.pretrainStep(bad, settings)).rejects.toThrow(/engine worker [12] of 2 failed: Based on the provided shape.*values/)
    await expect(p.pretrainStep(batch, settings)).rejects.toThrow(/engine worker [12] of 2 failed/)
    await p.close()
  })

  it('names the worker when its thread is stopped during a step', async () => {
    const p = await pool()
    const step = p.pretrainStep(batch, settings)
    void p.threads[0].terminate()
    await expect(step).rejects.toThrow(/engine worker 1 of 2 stopped unexpectedly/)
    await p.close()
  })
})

describe('embedding on engine workers', () => {
  it.each(['centroid', 'original'] as const)('%s embeddings on 2 workers equal those of one thread', async (kind) => {
    const params = createParams(MICRO_MODEL, 4)
    const pool = await EnginePool.start({ workers: 2, backend: 'wasm', model: { kind: 'pretrain', config: MICRO_MODEL, objective: 'equiav' }, params })
    try {
      const clipAt = (i: number): Promise<ReturnType<typeof syntheticClip>> => Promise.resolve(syntheticClip(i, 0, MICRO_MODEL))
      // chunks of 5, 5 and 1 clips: the last one leaves the second worker idle
      const o = { kind, seed: 3, batchSize: 5 }
      const here = await embedClips(params, MICRO_MODEL, 11, clipAt, o)
      const there = await embedClips(params, MICRO_MODEL, 11, clipAt, { ...o, embedRows: (x) => pool.embed(x) })
      expect(there.ids).toEqual(here.ids)
      for (const m of ['audio', 'visual'] as const) {
        expect(there[m].length).toBe(11 * MICRO_MODEL.interProjOutDim)
        expect(Math.max(...there[m].map((x, i) => Math.abs(x - here[m][i])))).toBeLessThan(TOLERANCE)
      }
    } finally {
      await pool.close()
      params.forEach((v) => v.dispose())
    }
  })
})

describe('fine-tuning on engine workers', () => {
  it('2 workers give the 1-worker metrics (with the evaluation) and weights, mixup and BCE included', async () => {
    const encoders = createParams(MICRO_MODEL, 2)
    const pretrained = { lineage: { from: 'p', kind: 'run' as const, step: 7 }, weights: toTensorDict(encoders), layout: 'ours' as const }
    encoders.forEach((v) => v.dispose())
    const sources = { train: syntheticSource(10, 0, MICRO_MODEL), eval: { split: 'test', source: syntheticHeldOut(10, 4, 0, MICRO_MODEL) } }
    const opts = (runDir: string, workers: number): InFolder<FinetuneOptions> => ({
      ...FINETUNE_DEFAULTS,
      runDir,
      model: MICRO_MODEL,
      preset: 'tiny',
      modality: 'audio-visual',
      linearProbe: false,
      mixup: 0.5,
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      steps: 3,
      batchSize: 3, // 2 + 1 rows on two workers; 3 steps per epoch, so the last row holds the evaluation
      // the default lr (1e-4): the attention key bias has an analytically zero gradient, so what it gets is float
      // rounding, which AdamW (unclipped here, unlike pretraining) scales up to about lr per step whichever way
      // the rounding went; at lr 1e-3 the key biases of the two runs differed by up to 1.9e-5 after 3 steps
      workers,
      resume: false,
      data: { kind: 'synthetic', clips: 10 }
    })
    const one = join(work, 'ft-1')
    const two = join(work, 'ft-2')
    await finetuneIn(opts(one, 1), pretrained, sources, quiet())
    await finetuneIn(opts(two, 2), pretrained, sources, quiet())
    const twoRows = await rows(two)
    expect(twoRows[2].eval_split).toBe('test')
    expectSameRows(twoRows, await rows(one))
    await expectSameCheckpoints(two, one)
  })
})
