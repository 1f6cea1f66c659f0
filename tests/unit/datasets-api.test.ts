import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../../src/main/api/http'
import { createMediaHandler, parseMediaPath } from '../../src/main/api/media'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { vectorNames } from '../../src/main/data/augment-preview'
import { Catalog } from '../../src/main/data/catalog'
import { importFolder } from '../../src/main/data/importers/folder'
import { AUDIO_AUG_INDEX } from '../../src/main/engine/augment'
import { JobRunner } from '../../src/main/jobs/runner'
import { mediaPath } from '../../src/shared/media'
import { PretrainRequestSchema } from '../../src/shared/requests'
import { checkPretrainRequest } from '../../src/main/workflows/pretrain'
import { createMediaDir, type MediaDir } from '../helpers/media'

let media: MediaDir
let workspace: string
let runner: JobRunner
let router: ReturnType<typeof createRouter>
const token = 'c'.repeat(48)
let base: string
let server: ReturnType<typeof createApiServer>
const auth = { authorization: `Bearer ${token}` }

beforeAll(async () => {
  media = createMediaDir('equiav-datasets-api-')
  workspace = join(media.dir, 'ws')
  const src = join(media.dir, 'src')
  mkdirSync(join(src, 'cat'), { recursive: true })
  mkdirSync(join(src, 'dog'), { recursive: true })
  const [a, b] = await media.makeAll([
    { name: 'a.mp4', duration: 1 },
    { name: 'b.mp4', duration: 2, audio: { frequencies: [880] } }
  ])
  renameSync(a, join(src, 'cat', 'a.mp4'))
  renameSync(b, join(src, 'dog', 'b.mp4'))
  writeFileSync(join(src, 'cat', 'notes.mp4'), 'not a video at all\n'.repeat(20))
  writeFileSync(join(media.dir, 'secret.txt'), 'outside every dataset')
  const catalog = Catalog.open(join(workspace, 'datasets', 'd1'))
  catalog.setMeta('source', `folder ${src}`)
  await importFolder({ root: src, catalog, testFraction: 0.5 })
  catalog.close()
  runner = new JobRunner(workspace)
  router = createRouter(workspaceServices(workspace, '1', runner))
  server = createApiServer({ router, token, staticDir: join(media.dir, 'static'), media: createMediaHandler(workspace) })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 60_000)

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()))
  media.cleanup()
})

describe('datasets API', () => {
  it('lists datasets and reports counts, classes and the quarantine report', async () => {
    expect(await router('datasets.list', {})).toEqual([{ name: 'd1', total: 3, ok: 2, quarantined: 1, missing: 0, classes: 2, prepared: [] }])
    const info = (await router('datasets.info', { dataset: 'd1' })) as { classes: string[]; counts: Record<string, unknown>; quarantined: { id: string; reason: string }[]; source: string }
    expect(info.classes).toEqual(['cat', 'dog'])
    expect(info.counts).toMatchObject({ total: 3, ok: 2, quarantined: 1, excluded: 0 })
    expect(info.quarantined).toEqual([expect.objectContaining({ id: 'cat/notes.mp4', reason: 'not-media' })])
    expect(info.source).toMatch(/^folder /)
    await expect(router('datasets.info', { dataset: 'nope' })).rejects.toThrow(/no dataset "nope"/)
    await expect(router('datasets.info', { dataset: '../x' })).rejects.toThrow(/dataset: a dataset name/)
  })

  it('pages and filters clips (label, status, duration) with the matching total', async () => {
    const all = (await router('datasets.clips', { dataset: 'd1', limit: 2 })) as { total: number; rows: { id: string }[] }
    expect(all.total).toBe(3)
    expect(all.rows).toHaveLength(2)
    const page2 = (await router('datasets.clips', { dataset: 'd1', offset: 2, limit: 2 })) as { rows: { id: string }[] }
    expect(page2.rows).toHaveLength(1)
    // pages in import order: together every clip once
    expect([...all.rows, ...page2.rows].map((r) => r.id).sort()).toEqual(['cat/a.mp4', 'cat/notes.mp4', 'dog/b.mp4'])
    const dog = (await router('datasets.clips', { dataset: 'd1', filter: { label: 1 } })) as { total: number; rows: { id: string }[] }
    expect(dog.rows.map((r) => r.id)).toEqual(['dog/b.mp4'])
    const long = (await router('datasets.clips', { dataset: 'd1', filter: { minDuration: 1.5 } })) as { total: number }
    expect(long.total).toBe(1)
    const bad = (await router('datasets.clips', { dataset: 'd1', filter: { status: 'quarantined' } })) as { rows: { reason: string }[] }
    expect(bad.rows.map((r) => r.reason)).toEqual(['not-media'])
    await expect(router('datasets.clips', { dataset: 'd1', limit: 100_000 })).rejects.toThrow(/limit:/)
    expect(JSON.stringify(all)).not.toContain(media.dir) // file paths stay in the main process
  })

  it('searches by clip id and class name, sorts by a column either way, and says where a clip is in that order', async () => {
    const ids = async (args: object): Promise<string[]> => ((await router('datasets.clips', { dataset: 'd1', ...args })) as { rows: { id: string }[] }).rows.map((r) => r.id)
    expect(await ids({ filter: { search: 'NOTES' } })).toEqual(['cat/notes.mp4'])
    expect(await ids({ filter: { search: 'dog' } })).toEqual(['dog/b.mp4']) // the id, and the class name 'dog'
    expect(await ids({ sort: { by: 'duration', desc: true } })).toEqual(['dog/b.mp4', 'cat/a.mp4', 'cat/notes.mp4']) // 2 s, 1 s, none
    expect(await ids({ sort: { by: 'id' }, offset: 1, limit: 1 })).toEqual(['cat/notes.mp4'])
    const position = (args: object): Promise<unknown> => router('datasets.position', { dataset: 'd1', ...args })
    expect(await position({ clip: 'cat/a.mp4', sort: { by: 'duration', desc: true } })).toEqual({ index: 1 })
    expect(await position({ clip: 'cat/a.mp4', filter: { status: 'quarantined' } })).toEqual({ index: null })
    await expect(router('datasets.clips', { dataset: 'd1', sort: { by: 'path' } })).rejects.toThrow(/sort/)
  })

  it('relabels, moves and excludes a clip, and names the clip when a label is not a class', async () => {
    expect(await router('datasets.edit', { dataset: 'd1', clip: 'cat/a.mp4', labels: [1, 0], split: 'val', excluded: true })).toMatchObject({
      labels: [1, 0],
      split: 'val',
      excluded: true
    })
    expect(await router('datasets.edit', { dataset: 'd1', clip: 'cat/a.mp4', excluded: false })).toMatchObject({ labels: [1, 0], split: 'val', excluded: false })
    await expect(router('datasets.edit', { dataset: 'd1', clip: 'cat/a.mp4', labels: [7] })).rejects.toThrow(/clip "cat\/a.mp4": label 7 is not a class index/)
    await expect(router('datasets.edit', { dataset: 'd1', clip: 'ghost.mp4', excluded: true })).rejects.toThrow(/no clip "ghost.mp4"/)
  })

  it('edits a selection in one call: a new primary label replaces the old one, and a bad clip leaves every clip as it was', async () => {
    await router('datasets.edit', { dataset: 'd1', clip: 'cat/a.mp4', labels: [1, 0] })
    const { rows } = (await router('datasets.editMany', { dataset: 'd1', clips: ['cat/a.mp4', 'dog/b.mp4'], primary: 0, split: 'test' })) as {
      rows: { id: string; labels: number[]; split: string }[]
    }
    expect(rows.map((r) => [r.id, r.labels, r.split])).toEqual([
      ['cat/a.mp4', [0], 'test'],
      ['dog/b.mp4', [0], 'test']
    ])
    await expect(router('datasets.editMany', { dataset: 'd1', clips: ['dog/b.mp4', 'ghost.mp4'], excluded: true })).rejects.toThrow(/no clip "ghost.mp4"/)
    expect(await router('datasets.clip', { dataset: 'd1', clip: 'dog/b.mp4' })).toMatchObject({ excluded: false })
    await expect(router('datasets.editMany', { dataset: 'd1', clips: [] })).rejects.toThrow(/clips/)
  })

  it('previews one audio and one visual augmentation with named official vectors, reproducibly by seed', async () => {
    const p = (await router('datasets.augmentPreview', { dataset: 'd1', clip: 'dog/b.mp4', seed: 3 })) as {
      audio: { names: string[]; vector: number[]; image: string }
      visual: { names: string[]; vector: number[]; image: string }
    }
    expect(p.audio.vector).toHaveLength(24)
    expect(p.audio.names).toHaveLength(24)
    expect(p.visual.vector).toHaveLength(18)
    expect(p.visual.names.slice(0, 5)).toEqual(['cropOn', 'cropTop', 'cropLeft', 'cropHeight', 'cropWidth'])
    expect(p.visual.vector[0]).toBe(1) // the visual crop is always on
    expect(p.audio.image).toMatch(/^data:image\/png;base64,/)
    expect(await router('datasets.augmentPreview', { dataset: 'd1', clip: 'dog/b.mp4', seed: 3 })).toEqual(p)
    const other = (await router('datasets.augmentPreview', { dataset: 'd1', clip: 'dog/b.mp4', seed: 4 })) as typeof p
    expect(other.visual.vector).not.toEqual(p.visual.vector)
    await expect(router('datasets.augmentPreview', { dataset: 'd1', clip: 'cat/notes.mp4' })).rejects.toThrow(/quarantined \(not-media\)/)
  }, 60_000)

  it('names the fields of a vector, spans marked with their offset', () => {
    const names = vectorNames(AUDIO_AUG_INDEX, 24)
    expect(names.slice(12, 18)).toEqual(['jitterOn', 'jitterOrder[0]', 'jitterOrder[1]', 'jitterOrder[2]', 'jitterOrder[3]', 'jitterBrightness'])
    expect(names[23]).toBe('hflip')
  })

  it('imports a folder as a job, quarantining the broken file, and refuses relative or missing folders', async () => {
    await expect(router('datasets.import', { dataset: 'd2', from: 'relative/dir' })).rejects.toThrow(/absolute path/)
    await expect(router('datasets.import', { dataset: 'd2', from: join(media.dir, 'missing') })).rejects.toThrow(/no such folder/)
    const job = (await router('datasets.import', { dataset: 'd2', from: join(media.dir, 'src') })) as { id: string; kind: string; dataset: string }
    expect(job).toMatchObject({ kind: 'import', dataset: 'd2' })
    await runner.idle()
    expect(runner.get(job.id)).toMatchObject({ state: 'done', progress: { done: 3, total: 3, unit: 'files' } })
    expect(await router('datasets.info', { dataset: 'd2' })).toMatchObject({ counts: { ok: 2, quarantined: 1 }, quarantined: [{ id: 'cat/notes.mp4', reason: 'not-media' }] })
  }, 60_000)

  it('prepares a dataset for training as a job: its own statistics first, then every usable clip into the cache', async () => {
    await expect(router('datasets.prepare', { dataset: 'nope' })).rejects.toThrow(/no dataset "nope"/)
    await expect(router('datasets.prepare', { dataset: 'd2', preset: 'huge' })).rejects.toThrow(/preset/)
    const job = (await router('datasets.prepare', { dataset: 'd2' })) as { id: string; kind: string; dataset: string }
    expect(job).toMatchObject({ kind: 'prepare', dataset: 'd2' })
    await runner.idle()
    const rec = runner.get(job.id)
    expect(rec, rec.log.join('\n')).toMatchObject({ state: 'done', progress: { done: 2, total: 2, unit: 'clips' } })
    const result = rec.result as { prepared: number; cache: string }
    expect(result.prepared).toBe(2)
    const catalog = Catalog.open(join(workspace, 'datasets', 'd2'))
    const norm = JSON.parse(catalog.meta('input_norm') ?? 'null') as { fbank: { mean: number; std: number } }
    catalog.close()
    // the cache is the one of the dataset's own statistics
    expect(result.cache).toContain(`-n${norm.fbank.mean}_${norm.fbank.std}`)
    expect(existsSync(join(result.cache, 'index.json'))).toBe(true)
  }, 60_000)

  it('lists the presets each dataset is prepared for, and refuses a pretraining job on a dataset missing, unprepared or partly prepared before any job starts', async () => {
    const listed = (await router('datasets.list', {})) as { name: string; prepared: string[] }[]
    expect(listed.map((d) => [d.name, d.prepared])).toEqual([['d1', []], ['d2', ['tiny']]])
    const jobsBefore = runner.list().length
    const start = (args: Record<string, unknown>): Promise<unknown> => router('jobs.start', { kind: 'pretrain', args: { run: 'p', steps: 1, ...args } })
    await expect(start({ dataset: 'nope' })).rejects.toThrow(/^jobs\.start: dataset: no dataset "nope" in /)
    await expect(start({ dataset: 'd1' })).rejects.toThrow(/^jobs\.start: dataset: dataset "d1" is not prepared for the tiny preset .*equiav dataset prepare --name d1 --preset tiny/)
    await expect(start({ dataset: 'd2', preset: 'small' })).rejects.toThrow(/^jobs\.start: dataset: dataset "d2" is not prepared for the small preset/)
    await expect(start({ initFrom: 'no-such-run' })).rejects.toThrow(/^jobs\.start: initFrom: no run "no-such-run"/)
    writeFileSync(join(media.dir, 'encoders.pth'), 'not read: the dataset is refused first')
    await expect(router('jobs.start', { kind: 'finetune', args: { run: 'f', fromCheckpoint: join(media.dir, 'encoders.pth'), preset: 'tiny', dataset: 'nope' } })).rejects.toThrow(/^jobs\.start: dataset: no dataset "nope" in /)

    // both clips in the train split, the index then naming only one of them: partly prepared
    const catalog = Catalog.open(join(workspace, 'datasets', 'd2'))
    const ids = catalog.list({ status: 'ok' }).map((c) => c.id)
    for (const id of ids) catalog.edit(id, { split: 'train' })
    catalog.close()
    const cache = (runner.list().find((j) => j.request.kind === 'prepare')!.result as { cache: string }).cache
    const indexPath = join(cache, 'index.json')
    const full = readFileSync(indexPath, 'utf8')
    const index = JSON.parse(full) as { shards: { ids: string[] }[] }
    expect(index.shards.flatMap((s) => s.ids).sort()).toEqual([...ids].sort())
    writeFileSync(indexPath, JSON.stringify({ ...index, shards: index.shards.map((s) => ({ ...s, ids: s.ids.filter((id) => id !== ids[0]) })) }))
    try {
      await expect(start({ dataset: 'd2' })).rejects.toThrow(/^jobs\.start: dataset: dataset "d2" is only partly prepared for the tiny preset: 1 of 2 usable train clips are cached/)
      expect(runner.list()).toHaveLength(jobsBefore)
      // with allowPartial the same request passes the check (and would train on the one cached clip)
      await expect(checkPretrainRequest(workspace, PretrainRequestSchema.parse({ run: 'p', dataset: 'd2', allowPartial: true }))).resolves.toBeUndefined()
    } finally {
      writeFileSync(indexPath, full)
    }
    await expect(checkPretrainRequest(workspace, PretrainRequestSchema.parse({ run: 'p', dataset: 'd2' }))).resolves.toBeUndefined()
  }, 60_000)
})

describe('manifest import', () => {
  it('imports an AudioSet CSV as a job: found media probed, the rest missing, the end report logged; bad fields named', async () => {
    writeFileSync(join(media.dir, 'labels.csv'), 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05tny_,"Bark, dog"\n')
    writeFileSync(join(media.dir, 'eval_segments.csv'), '# YTID, start_seconds, end_seconds, positive_labels\nb, 0.000, 10.000, "/m/05tny_"\nzz, 30.000, 40.000, "/m/09x0r,/m/05tny_"\n')
    const args = { dataset: 'as', format: 'audioset-csv', from: join(media.dir, 'eval_segments.csv'), labels: join(media.dir, 'labels.csv'), mediaRoot: join(media.dir, 'src') }
    await expect(router('datasets.import', { ...args, labels: undefined })).rejects.toThrow(/labels: an AudioSet CSV or CAV-MAE datafile needs its class_labels_indices\.csv/)
    await expect(router('datasets.import', { ...args, labels: join(media.dir, 'nope.csv') })).rejects.toThrow(/labels: .*nope\.csv: no such file/)
    await expect(router('datasets.import', { ...args, mediaRoot: 'rel' })).rejects.toThrow(/mediaRoot: rel: give the folder as an absolute path/)
    await expect(router('datasets.import', { ...args, from: join(media.dir, 'src') })).rejects.toThrow(/from: .*: no such file/)
    const job = (await router('datasets.import', args)) as { id: string }
    await runner.idle()
    const rec = runner.get(job.id)
    expect(rec).toMatchObject({ state: 'done', progress: { done: 2, total: 2, unit: 'rows' } })
    expect(rec.log.join('\n')).toMatch(/eval_segments\.csv: 2 rows, 2 added, 0 already present, media found for 1/)
    expect(rec.log.join('\n')).toMatch(/as: 2 clips: 1 ok \(test 1\), 0 quarantined, 1 missing \(not downloaded\)/)
    expect(await router('datasets.info', { dataset: 'as' })).toMatchObject({ classes: ['Speech', 'Bark, dog'], counts: { total: 2, ok: 1, missing: 1 } })
  }, 60_000)
})

describe('media endpoint', () => {
  const get = (path: string, headers: Record<string, string> = auth): Promise<Response> => fetch(`${base}${path}`, { headers })

  it('serves the clip file (whole and by range), its audio, frames and spectrogram as the model sees it', async () => {
    const file = readFileSync(join(media.dir, 'src', 'dog', 'b.mp4'))
    const video = await get(mediaPath('d1', 'dog/b.mp4', 'video'))
    expect(video.status).toBe(200)
    expect(video.headers.get('content-type')).toBe('video/mp4')
    expect(Buffer.from(await video.arrayBuffer()).equals(file)).toBe(true)
    const part = await get(mediaPath('d1', 'dog/b.mp4', 'video'), { ...auth, range: 'bytes=10-19' })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${file.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(file.subarray(10, 20))).toBe(true)

    const wav = Buffer.from(await (await get(mediaPath('d1', 'dog/b.mp4', 'audio.wav'))).arrayBuffer())
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF')
    expect(wav.readUInt32LE(24)).toBe(16000)
    const samples = wav.readUInt32LE(40) / 2
    expect(samples).toBeGreaterThan(31_500) // 2 s at 16 kHz, give or take the AAC encoder's padding
    expect(samples).toBeLessThan(33_000)

    const png = (b: Buffer): { w: number; h: number } => {
      expect(b.subarray(1, 4).toString('ascii')).toBe('PNG')
      return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) }
    }
    const spec = await get(mediaPath('d1', 'dog/b.mp4', 'spectrogram.png'))
    expect(png(Buffer.from(await spec.arrayBuffer()))).toEqual({ w: 304, h: 128 }) // tiny preset: T × mel bins
    expect(png(Buffer.from(await (await get(mediaPath('d1', 'dog/b.mp4', 'frame/9.png'))).arrayBuffer()))).toEqual({ w: 64, h: 64 })
    expect((await get(mediaPath('d1', 'dog/b.mp4', 'frame/10.png'))).status).toBe(404)
    expect((await get(mediaPath('d1', 'dog/b.mp4', 'thumb.jpg'))).headers.get('content-type')).toBe('image/jpeg')
  }, 60_000)

  it('reads nothing but catalogued clips: unknown clip or dataset, traversal and no token are refused', async () => {
    expect((await get(mediaPath('d1', 'ghost.mp4', 'video'))).status).toBe(404)
    expect((await get(mediaPath('nope', 'dog/b.mp4', 'video'))).status).toBe(404)
    expect((await get('/media/d1/dog%2Fb.mp4/passwd')).status).toBe(404)
    for (const path of [
      '/media/d1/..%2F..%2Fsecret.txt/video',
      '/media/..%2F..%2F/secret.txt/video',
      '/media/d1/%2e%2e%2fsecret.txt/video',
      `/media/d1/${encodeURIComponent(join(media.dir, 'secret.txt'))}/video`
    ]) {
      const r = await get(path)
      expect(r.status, path).toBe(404)
      expect(await r.text()).not.toContain('outside every dataset')
    }
    expect((await get(mediaPath('d1', 'dog/b.mp4', 'video'), {})).status).toBe(401)
    expect(parseMediaPath('/media/d1/x')).toBeNull()
    expect(parseMediaPath('/media/d1/%E0%A4%A/video')).toBeNull()
  })
})

describe('media file rows', () => {
  it('a quarantined file cannot be decoded into a spectrogram: 422 with the reason', async () => {
    const r = await fetch(`${base}${mediaPath('d1', 'cat/notes.mp4', 'spectrogram.png')}`, { headers: auth })
    expect(r.status).toBe(422)
    expect(await r.text()).toMatch(/cat\/notes.mp4:/)
  })
})

afterAll(() => rmSync(join(media.dir, 'ws'), { recursive: true, force: true }))
