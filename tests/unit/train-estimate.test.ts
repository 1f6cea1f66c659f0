import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { formatEpochTime, stepTimeKey } from '../../src/shared/estimate'
import { epochSeconds, expectedBackend, readStepTimes, recordStepTime, stepTimesPath } from '../../src/main/data/step-times'
import { Catalog, type ClipRecord } from '../../src/main/data/catalog'
import { DatasetCatalogs } from '../../src/main/data/datasets'
import { ClipPlayback } from '../../src/main/api/playback'
import { trainServices } from '../../src/main/api/services/train'
import type { JobRunner } from '../../src/main/jobs/runner'
import { contract } from '../../src/shared/contract'

const workspace = mkdtempSync(join(tmpdir(), 'equiav-estimate-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('time per epoch', () => {
  it('an epoch is the full batches of the train clips (drop_last), at least one', () => {
    expect(epochSeconds(1.5, 100, 16)).toBe(1.5 * 6) // 100 / 16 = 6.25 → 6 full batches
    expect(epochSeconds(2, 32, 16)).toBe(4)
    expect(epochSeconds(2, 5, 16)).toBe(2) // fewer clips than a batch: still one step
  })

  it('names a cached figure by backend, task, preset and batch', () => {
    expect(stepTimeKey({ backend: 'wasm', task: 'pretrain', preset: 'tiny', batchSize: 16 })).toBe('wasm/pretrain/tiny/16')
    expect(stepTimeKey({ backend: 'wasm', task: 'linear-probe', preset: 'tiny', batchSize: 16 })).not.toBe(stepTimeKey({ backend: 'wasm', task: 'finetune', preset: 'tiny', batchSize: 16 }))
  })

  it.each([
    [0.2, '≈ 1 s per epoch on wasm'],
    [42.4, '≈ 42 s per epoch on wasm'],
    [60, '≈ 1.0 min per epoch on wasm'],
    [6 * 1.62 * 60, '≈ 9.7 min per epoch on wasm'],
    [45 * 60 + 20, '≈ 45 min per epoch on wasm'],
    [15 * 3600, '≈ 15.0 h per epoch on wasm']
  ])('words %f s as "%s"', (seconds, text) => {
    expect(formatEpochTime(seconds, 'wasm')).toBe(text)
  })

  it('caches figures in the workspace and looks them up on the backend an engine process uses', async () => {
    expect(readStepTimes(workspace)).toEqual({ backend: null, entries: {} })
    await recordStepTime(workspace, { backend: 'wasm', task: 'pretrain', preset: 'tiny', batchSize: 4 }, 0.5)
    await recordStepTime(workspace, { backend: 'wasm', task: 'finetune', preset: 'tiny', batchSize: 4 }, 0.25)
    const times = readStepTimes(workspace)
    expect(Object.keys(times.entries).sort()).toEqual(['wasm/finetune/tiny/4', 'wasm/pretrain/tiny/4'])
    expect(expectedBackend(times, undefined)).toBe('wasm')
    expect(expectedBackend(times, 'cpu')).toBe('cpu')
  })

  it('train.estimate: the cached step time by the steps of an epoch of the dataset\'s usable train clips', async () => {
    const c = Catalog.open(join(workspace, 'datasets', 'd'))
    const clip = (i: number, extra: Partial<ClipRecord>): ClipRecord => ({
      id: `c${i}.mp4`, path: `/x/c${i}.mp4`, size: 1, mtimeMs: 0, duration: 1, audio: 'a', video: 'v', labels: [0], split: 'train', status: 'ok', reason: null, detail: null, hash: String(i), excluded: false, ...extra
    })
    c.setClasses(['a'])
    c.upsert([...Array.from({ length: 10 }, (_, i) => clip(i, {})), clip(10, { split: 'test' }), clip(11, { excluded: true }), clip(12, { status: 'missing' })])
    c.close()
    const s = trainServices({ workspace, version: 't', jobs: {} as JobRunner, catalogs: new DatasetCatalogs(workspace), playback: new ClipPlayback(workspace) })
    const out = contract['train.estimate'].output.parse(await s['train.estimate']({ task: 'pretrain', preset: 'tiny', batchSize: 4, dataset: 'd' }))
    expect(out).toMatchObject({ backend: 'wasm', secondsPerStep: 0.5, trainClips: 10, stepsPerEpoch: 2, secondsPerEpoch: 1 })
    const none = await s['train.estimate']({ task: 'pretrain', preset: 'tiny', batchSize: 8 })
    expect(none).toMatchObject({ secondsPerStep: null, secondsPerEpoch: null, trainClips: 256, stepsPerEpoch: 32 })
  })

  it('names the file when the cache is not a step-times file', () => {
    writeFileSync(stepTimesPath(workspace), '{"backend":"wasm"}')
    expect(() => readStepTimes(workspace)).toThrow(/step-times\.json: not a step-times file/)
  })
})
