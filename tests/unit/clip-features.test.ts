import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import { ClipFeatureStore } from '../../src/main/data/clip-features'
import { fbankOfFile } from '../../src/main/data/features'
import { INPUT_NORM_META } from '../../src/main/data/input-norm'
import { importFolder } from '../../src/main/data/importers/folder'
import { createMediaDir, type MediaDir } from '../helpers/media'

let media: MediaDir
const datasetDir = mkdtempSync(join(tmpdir(), 'equiav-clip-features-'))
beforeAll(async () => {
  media = createMediaDir('equiav-clip-features-media-')
  await media.make({ name: 'a.mp4', duration: 1 })
  const catalog = Catalog.open(datasetDir)
  await importFolder({ root: media.dir, catalog })
  catalog.close()
}, 60_000)
afterAll(() => {
  media.cleanup()
  rmSync(datasetDir, { recursive: true, force: true })
})

describe('the inspector’s model inputs of an unprepared clip', () => {
  it('are normalised with the dataset’s own statistics once it has them', async () => {
    const catalog = Catalog.open(datasetDir)
    const clip = catalog.list({ status: 'ok' })[0]
    const raw = await fbankOfFile(clip.path) // [frames, 128], not normalised
    const official = await new ClipFeatureStore().get(datasetDir, clip)
    expect(official.from).toBe('decoded')
    expect(official.settings.norm).toEqual({ mean: -4.346, std: 4.332 })
    expect(official.fbank[5]).toBeCloseTo((raw[5] + 4.346) / 4.332, 4)
    catalog.setMeta(INPUT_NORM_META, JSON.stringify({ fbank: { mean: -9, std: 6 }, frame: { mean: [0, 0, 0], std: [1, 1, 1] }, source: 'test' }))
    catalog.close()
    const own = await new ClipFeatureStore().get(datasetDir, clip)
    expect(own.settings.norm).toEqual({ mean: -9, std: 6 })
    expect(own.fbank[5]).toBeCloseTo((raw[5] + 9) / 6, 4)
  })
})
