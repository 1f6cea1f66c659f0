import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheReader, SHARD_CLIPS, cacheClipSource, cacheDir, prepareCache } from '../../src/main/data/cache'
import type { CacheSettings } from '../../src/main/data/cache-format'
import { fbankOfFile } from '../../src/main/data/features'
import { normalizeFbank, padOrCut } from '../../src/main/data/fbank'
import { batchIndices } from '../../src/main/engine/train/data-source'
import { createMediaDir, type MediaDir } from '../helpers/media'

let media: MediaDir
let clips: { id: string; path: string }[]
const settings: CacheSettings = { targetLength: 128, numMelBins: 128, frameSize: 16, frames: 10, norm: { mean: -4.346, std: 4.332 } }

beforeAll(async () => {
  media = createMediaDir()
  const paths = await media.makeAll([
    { name: 'red.mp4', video: { color: 'red', width: 32, height: 32 } },
    { name: 'blue.mp4', video: { color: 'blue', width: 32, height: 32 }, audio: { frequencies: [880] } },
    { name: 'plain.mkv' }
  ])
  clips = [
    ...paths.map((p) => ({ id: p.split('/').pop()!, path: p })),
    { id: 'broken.mp4', path: await media.broken('random', 'broken.mp4') }
  ]
}, 120_000)
afterAll(() => media?.cleanup())

describe('preprocessing cache', () => {
  it('stores the official fbank and the frames, reports broken clips, and reads back verified', async () => {
    const datasetDir = join(media.dir, 'ds')
    const index = await prepareCache({ datasetDir, clips, settings, workers: 1 })
    expect(index.failures).toEqual([expect.objectContaining({ id: 'broken.mp4', reason: 'not-media' })])
    const reader = await CacheReader.open(cacheDir(datasetDir, settings))
    const red = await reader.clip('red.mp4', 0)
    expect(red.frames).toHaveLength(10)
    const S = settings.frameSize
    const mean = (c: number): number => red.frames[4].subarray(c * S * S, (c + 1) * S * S).reduce((a, b) => a + b, 0) / (S * S)
    expect(mean(0)).toBeGreaterThan(0.9)
    expect(mean(2)).toBeLessThan(0.1)
    const raw = await fbankOfFile(clips[0].path)
    const want = normalizeFbank(padOrCut(raw, raw.length / 128, 128, 128), -4.346, 4.332)
    let worst = 0
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - red.fbank[i]))
    expect(worst).toBeLessThan(1e-6)
    await reader.close()
  })

  it('resumes without redoing finished shards and detects a corrupted record', async () => {
    const datasetDir = join(media.dir, 'resume')
    const first = await prepareCache({ datasetDir, clips: clips.slice(0, 1), settings, workers: 1 })
    const shardFile = join(cacheDir(datasetDir, settings), first.shards[0].file)
    const before = readFileSync(shardFile)
    writeFileSync(join(cacheDir(datasetDir, settings), '.shard-999999.bin.tmp-1-abcd'), 'half a shard from a killed run')
    const progress: number[] = []
    const second = await prepareCache({ datasetDir, clips, settings, workers: 1, onProgress: (p) => progress.push(p.skipped) })
    expect(progress[0]).toBe(1) // the first clip was not redone
    expect(readFileSync(shardFile).equals(before)).toBe(true)
    expect(second.shards.flatMap((s) => s.ids).sort()).toEqual(['blue.mp4', 'plain.mkv', 'red.mp4'])
    expect(SHARD_CLIPS).toBeGreaterThan(1)

    const corrupt = Buffer.from(before)
    corrupt[corrupt.length - 5] ^= 0xff
    writeFileSync(shardFile, corrupt)
    const reader = await CacheReader.open(cacheDir(datasetDir, settings))
    await expect(reader.clip('red.mp4', 0)).rejects.toThrow(/shard-.*record of clip red.mp4 is corrupt/)
    await reader.close()
  })

  it('serves clips as a ClipSource in the deterministic batch order', async () => {
    const datasetDir = join(media.dir, 'ds')
    const reader = await CacheReader.open(cacheDir(datasetDir, settings))
    const source = cacheClipSource(reader, [{ id: 'red.mp4', label: 0 }, { id: 'blue.mp4', label: 1 }, { id: 'broken.mp4', label: 1 }], 'test')
    expect(source.size).toBe(2) // the failed clip is not served
    const order = batchIndices(0, source.size, 2, 3).indices
    const a = await Promise.all(order.map((i) => source.clip(i)))
    const b = await Promise.all(order.map((i) => source.clip(i)))
    expect(a.map((c) => c.id)).toEqual(b.map((c) => c.id))
    expect(a[0].fbank).toEqual(b[0].fbank)
    expect(a.map((c) => c.label).sort()).toEqual([0, 1])
    await reader.close()
  })
})
