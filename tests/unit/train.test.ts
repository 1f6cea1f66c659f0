import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createParams } from '../../src/main/engine/model'
import { AdamW } from '../../src/main/engine/optim'
import { DEFAULT_LOSS_WEIGHTS, DEFAULT_TAU } from '../../src/main/engine/losses'
import { batchTensors, trainStep } from '../../src/main/engine/train/step'
import { collateBatch } from '../../src/main/engine/train/views'
import { syntheticClip } from '../../src/main/engine/train/synthetic'
import { syntheticSource } from '../../src/main/engine/train/synthetic-source'
import { derivedRng } from '../../src/main/engine/train/data-source'
import { type MetricsRow, type PretrainOptions, type PretrainSummary, runPretrain } from '../../src/main/engine/train/pretrain'
import type { ClipSource } from '../../src/main/engine/train/data-source'
import { PRETRAIN_SETTINGS, pretrainFolder } from '../helpers/runs'
import { listCheckpoints, loadLatestCheckpoint } from '../../src/main/runs/checkpoints'
import type { Reporter } from '../../src/main/engine/report'
import { useTestBackend } from '../helpers/tf'
import { MICRO_MODEL } from '../helpers/micro'

let work: string
beforeAll(async () => {
  await useTestBackend()
  work = await mkdtemp(join(tmpdir(), 'equiav-train-'))
})
afterAll(() => rm(work, { recursive: true, force: true }))

function quietContext(onStep?: (done: number) => void): { ctx: Reporter; controller: AbortController } {
  const controller = new AbortController()
  return {
    controller,
    ctx: { signal: controller.signal, log: () => {}, metrics: () => {}, progress: (p) => onStep?.(p.done) }
  }
}

type TestOptions = PretrainOptions & { runDir: string; keepCheckpoints?: number }

/** runPretrain on the run folder `runDir`, as the pretraining workflow opens it. */
function pretrain({ runDir, keepCheckpoints, ...opts }: TestOptions, source: ClipSource, ctx: Reporter): Promise<PretrainSummary> {
  return runPretrain(opts, source, pretrainFolder(runDir, ctx, keepCheckpoints), ctx)
}

function options(runDir: string, steps: number, extra: Partial<TestOptions> = {}): TestOptions {
  return {
    ...PRETRAIN_SETTINGS,
    runDir,
    preset: 'tiny',
    model: MICRO_MODEL,
    steps,
    batchSize: 4,
    lr: 1e-3,
    checkpointEvery: 3,
    resume: false,
    data: { kind: 'synthetic', clips: 16 },
    ...extra
  }
}

async function metrics(runDir: string): Promise<MetricsRow[]> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8')
  return text.trim().split('\n').map((l) => JSON.parse(l) as MetricsRow)
}

describe('trainStep', () => {
  it('overfits one fixed batch: the loss falls by at least 90%', () => {
    const c = MICRO_MODEL
    const clips = [0, 1, 2, 3].map((i) => syntheticClip(i, 0, c))
    const inputs = batchTensors(collateBatch(clips, derivedRng(0, 'step', 0), c), c)
    const params = createParams(c, 1)
    const opt = new AdamW(params, { weightDecay: 0 })
    const settings = { objective: 'equiav' as const, lossWeights: DEFAULT_LOSS_WEIGHTS, tau: DEFAULT_TAU, clipNorm: 1e9, lr: 3e-3 }
    const first = trainStep(params, opt, c, inputs, settings).total
    let last = first
    for (let i = 0; i < 150; i++) last = trainStep(params, opt, c, inputs, settings).total
    expect(last).toBeLessThan(0.1 * first)
    Object.values(inputs).forEach((t) => t.dispose())
    params.forEach((v) => v.dispose())
    opt.dispose()
  })
})

describe('runPretrain', () => {
  it('stop-and-resume reproduces the uninterrupted loss curve, and the checkpoint round trip is bit-exact', async () => {
    const source = syntheticSource(16, 0, MICRO_MODEL)
    const straight = join(work, 'straight')
    await pretrain(options(straight, 6), source, quietContext().ctx)

    const split = join(work, 'split')
    const first = quietContext((done) => {
      if (done === 3) first.controller.abort()
    })
    const stopped = await pretrain(options(split, 6), source, first.ctx)
    expect(stopped).toMatchObject({ finalStep: 3, cancelled: true })
    const resumed = await pretrain(options(split, 6, { resume: true }), source, quietContext().ctx)
    expect(resumed).toMatchObject({ startStep: 3, finalStep: 6, cancelled: false })

    const a = await metrics(straight)
    const b = await metrics(split)
    expect(b.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6])
    for (let i = 0; i < a.length; i++) {
      for (const k of ['loss', 'loss_inter', 'loss_intra_a', 'loss_intra_v', 'lr', 'grad_norm'] as const) {
        expect(Math.abs(a[i][k] - b[i][k])).toBeLessThanOrEqual(1e-5)
      }
    }
    // both runs end with bit-identical weights
    const ca = await loadLatestCheckpoint(straight)
    const cb = await loadLatestCheckpoint(split)
    expect(ca!.state).toMatchObject({ step: 6 })
    for (const [name, t] of ca!.weights) expect(Buffer.from(cb!.weights.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true)
  })

  it('keeps the newest keepCheckpoints checkpoints on disk, all of them with 0', async () => {
    const source = syntheticSource(16, 0, MICRO_MODEL)
    const steps = async (dir: string): Promise<number[]> => (await listCheckpoints(dir)).map((c) => c.step)
    await pretrain(options(join(work, 'keep2'), 5, { checkpointEvery: 1, keepCheckpoints: 2 }), source, quietContext().ctx)
    expect(await steps(join(work, 'keep2'))).toEqual([4, 5])
    await pretrain(options(join(work, 'keep0'), 5, { checkpointEvery: 1, keepCheckpoints: 0 }), source, quietContext().ctx)
    expect(await steps(join(work, 'keep0'))).toEqual([1, 2, 3, 4, 5])
  })

  it('refuses an existing run without --resume, and starts a run with no checkpoint from step 0', async () => {
    const source = syntheticSource(16, 0, MICRO_MODEL)
    const dir = join(work, 'again')
    await pretrain(options(dir, 1, { checkpointEvery: 100 }), source, quietContext().ctx)
    await expect(pretrain(options(dir, 2), source, quietContext().ctx)).rejects.toThrow(/already exists.*--resume/)
    const fresh = join(work, 'fresh')
    const logs: string[] = []
    const q = quietContext()
    const r = await pretrain(options(fresh, 1, { resume: true }), source, { ...q.ctx, log: (l) => logs.push(l) })
    expect(r.startStep).toBe(0)
    expect(logs.some((l) => /step 0/.test(l))).toBe(true)
  })

  it('saves the initialisation itself with --steps 0: the seed\'s weights at step 0', async () => {
    const dir = join(work, 'init')
    const r = await pretrain(options(dir, 0), syntheticSource(16, 0, MICRO_MODEL), quietContext().ctx)
    expect(r).toMatchObject({ startStep: 0, finalStep: 0, cancelled: false })
    const ckpt = await loadLatestCheckpoint(dir)
    expect(ckpt!.state).toMatchObject({ step: 0 })
    const init = createParams(MICRO_MODEL, PRETRAIN_SETTINGS.seed)
    for (const [name, v] of init) expect(Array.from(ckpt!.weights.get(name)!.data)).toEqual(Array.from(v.dataSync()))
    init.forEach((v) => v.dispose())
  })

  it('keeps tf.memory().numTensors flat over 200 steps', async () => {
    const source = syntheticSource(16, 0, MICRO_MODEL)
    const counts: number[] = []
    await pretrain(options(join(work, 'leak'), 200, { checkpointEvery: 1000 }), source, quietContext((done) => {
      if (done === 10 || done === 200) counts.push(tf.memory().numTensors)
    }).ctx)
    expect(counts).toHaveLength(2)
    expect(counts[1]).toBe(counts[0])
  })
})
