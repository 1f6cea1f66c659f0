/**
 * Manifest importers on small manifests written here: AudioSet CSV, VGGSound CSV, CAV-MAE JSON; every
 * malformed case names the file and line (or JSON path) and writes nothing; a stopped import resumes.
 * Media probing is injected, so no ffmpeg runs here (tests/integration/dataset-manifest.test.ts does).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import type { DemoManifest } from '../../src/main/data/demo'
import { audioSetSource } from '../../src/main/data/importers/audioset'
import { cavMaeSource } from '../../src/main/data/importers/cavmae-json'
import { importDemoManifest } from '../../src/main/data/importers/demo'
import { type ManifestImportOptions, importManifest, splitFromFileName } from '../../src/main/data/importers/manifest-import'
import { parseCsvLine, readClassLabels } from '../../src/main/data/importers/manifest-reader'
import { vggSoundSource } from '../../src/main/data/importers/vggsound'
import type { InspectedClip } from '../../src/main/data/inspect'
import { MediaError } from '../../src/main/data/media-types'

const dir = mkdtempSync(join(tmpdir(), 'equiav-manifest-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file(name: string, text: string): string {
  const path = join(dir, `${n++}-${name}`)
  writeFileSync(path, text)
  return path
}
const newCatalog = (): Catalog => Catalog.open(join(dir, `catalog-${n++}`))

const LABELS = file('class_labels_indices.csv', 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/0bt9lr,"Dog"\n2,/m/05tny_,"Bark, dog"\n')
const AUDIOSET_HEAD = '# Segments csv created Sun Mar  5 10:54:31 2017\n# num_ytids=3, num_segs=3\n# YTID, start_seconds, end_seconds, positive_labels\n'

function fakeInspect(calls: string[]): (path: string) => Promise<InspectedClip> {
  return async (path) => {
    calls.push(path)
    if (path.includes('broken')) throw new MediaError(path, 'corrupt', 'is empty (0 bytes)')
    return {
      probe: { path, duration: 10, formatName: 'mov,mp4', audio: { codec: 'aac', sampleRate: 44100, channels: 2 }, video: { codec: 'h264', width: 320, height: 240, fps: 25 } },
      size: 1,
      mtimeMs: 1,
      hash: `hash-${path}`
    }
  }
}

async function failure(o: Omit<ManifestImportOptions, 'catalog'>): Promise<{ message: string; total: number }> {
  const catalog = newCatalog()
  try {
    await importManifest({ ...o, catalog })
    throw new Error('the import did not fail')
  } catch (err) {
    return { message: (err as Error).message, total: catalog.counts().total }
  } finally {
    catalog.close()
  }
}

describe('parseCsvLine', () => {
  it('splits fields, with quotes, doubled quotes and AudioSet\'s spaces after commas', () => {
    expect(parseCsvLine('--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/t/dd00088"', 'f:1')).toEqual(['--PJHxphWEs', '30.000', '40.000', '/m/09x0r,/t/dd00088'])
    expect(parseCsvLine('a,"say ""hi"", ok",,c', 'f:1')).toEqual(['a', 'say "hi", ok', '', 'c'])
    expect(parseCsvLine('x,', 'f:1')).toEqual(['x', ''])
  })

  it('names the place of an unterminated quote or a stray one', () => {
    expect(() => parseCsvLine('a, "b,c', 'f.csv:7')).toThrow('f.csv:7: unterminated quote (opened at column 4)')
    expect(() => parseCsvLine('a,"b"c', 'f.csv:2')).toThrow('f.csv:2: unexpected text after a closing quote at column 6')
    expect(() => parseCsvLine('a,b"c', 'f.csv:3')).toThrow('f.csv:3: stray quote inside an unquoted field at column 4')
  })
})

describe('class_labels_indices.csv', () => {
  it('reads names and mids by index', async () => {
    expect(await readClassLabels(LABELS)).toEqual({ names: ['Speech', 'Dog', 'Bark, dog'], mids: ['/m/09x0r', '/m/0bt9lr', '/m/05tny_'] })
  })

  it('rejects indices out of order and repeated mids, naming the line', async () => {
    const gap = file('gap.csv', 'index,mid,display_name\n0,/m/a,"A"\n2,/m/b,"B"\n')
    await expect(readClassLabels(gap)).rejects.toThrow(`${gap}:3: index "2" out of order (expected 1)`)
    const twice = file('twice.csv', 'index,mid,display_name\n0,/m/a,"A"\n1,/m/a,"B"\n')
    await expect(readClassLabels(twice)).rejects.toThrow(`${twice}:3: mid "/m/a" listed twice`)
  })
})

describe('AudioSet CSV', () => {
  it('catalogues every row with its labels and split; media found by <YTID>_<start> is probed, the rest is missing', async () => {
    const media = join(dir, 'as-media')
    mkdirSync(join(media, 'sub'), { recursive: true })
    writeFileSync(join(media, 'sub', 'aaa_30.mp4'), '')
    writeFileSync(join(media, 'ccc_broken.mkv'), '')
    const csv = file('eval_segments.csv', AUDIOSET_HEAD + 'aaa, 30.000, 40.000, "/m/05tny_,/m/0bt9lr"\nbbb, 0.000, 10.000, "/m/09x0r"\nccc_broken, 5.5, 15.5, "/m/0bt9lr"\n')
    const catalog = newCatalog()
    const calls: string[] = []
    const r = await importManifest({ source: audioSetSource(csv, await readClassLabels(LABELS), splitFromFileName(csv)), catalog, mediaRoot: media, inspect: fakeInspect(calls) })
    expect(r).toEqual({ rows: 3, added: 3, skipped: 0, found: 2, stopped: false })
    expect(calls.sort()).toEqual([join(media, 'ccc_broken.mkv'), join(media, 'sub', 'aaa_30.mp4')])
    expect(catalog.classes()).toEqual(['Speech', 'Dog', 'Bark, dog'])
    expect(catalog.classMids()).toEqual(['/m/09x0r', '/m/0bt9lr', '/m/05tny_'])
    expect(catalog.get('aaa')).toMatchObject({ status: 'ok', labels: [2, 1], split: 'test', path: join(media, 'sub', 'aaa_30.mp4'), audio: 'aac 44100 Hz 2 ch' })
    expect(catalog.get('bbb')).toMatchObject({ status: 'missing', labels: [0], split: 'test', detail: expect.stringMatching(/^not downloaded: no bbb_0\.000\.\* or bbb_0\.\* .* under /) })
    expect(catalog.get('ccc_broken')).toMatchObject({ status: 'quarantined', reason: 'corrupt', detail: 'is empty (0 bytes)' })
    expect(catalog.counts()).toMatchObject({ total: 3, ok: 1, quarantined: 1, missing: 1, bySplit: { test: 1 } })
    catalog.close()
  })

  it('with probing off, catalogues found media as ok without opening it', async () => {
    const media = join(dir, 'as-media-2')
    mkdirSync(media)
    writeFileSync(join(media, 'aaa.webm'), 'x')
    const csv = file('balanced_train_segments.csv', AUDIOSET_HEAD + 'aaa, 30.000, 40.000, "/m/09x0r"\n')
    const catalog = newCatalog()
    const calls: string[] = []
    await importManifest({ source: audioSetSource(csv, await readClassLabels(LABELS), splitFromFileName(csv)), catalog, mediaRoot: media, probe: false, inspect: fakeInspect(calls) })
    expect(calls).toEqual([])
    expect(catalog.get('aaa')).toMatchObject({ status: 'ok', split: 'train', size: 1, detail: 'not probed (--no-probe)' })
    catalog.close()
  })

  it.each([
    ['unterminated quote', 'aaa, 0, 10, "/m/09x0r\n', 4, 'unterminated quote (opened at column 13)'],
    ['wrong column count', 'aaa, 0, 10, "/m/09x0r"\nbbb, 0, "/m/09x0r"\n', 5, 'expected 4 columns (YTID, start_seconds, end_seconds, positive_labels), found 3'],
    ['unknown class mid', 'aaa, 0, 10, "/m/09x0r"\nbbb, 0, 10, "/m/09x0r,/m/nope"\n', 5, 'unknown class mid "/m/nope" (not in the class list)'],
    ['bad number', 'aaa, 0, 10, "/m/09x0r"\nbbb, ten, 20, "/m/09x0r"\n', 5, 'start_seconds "ten" is not a number of seconds'],
    ['end before start', 'aaa, 30, 20, "/m/09x0r"\n', 4, 'end_seconds 20 is before start_seconds 30']
  ])('%s: fails with file:line and writes nothing', async (_case, rows, line, reason) => {
    const csv = file('bad.csv', AUDIOSET_HEAD + rows)
    const r = await failure({ source: audioSetSource(csv, await readClassLabels(LABELS), 'train') })
    expect(r).toEqual({ message: `${csv}:${line}: ${reason}`, total: 0 })
  })

  it('resumes a stopped import without probing again the rows it had catalogued', async () => {
    const media = join(dir, 'as-media-3')
    mkdirSync(media)
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5']
    for (const id of ids) writeFileSync(join(media, `${id}.mp4`), '')
    const csv = file('resume.csv', AUDIOSET_HEAD + ids.map((id) => `${id}, 0, 10, "/m/09x0r"`).join('\n') + '\n')
    const source = audioSetSource(csv, await readClassLabels(LABELS), 'train')
    const catalog = newCatalog()
    const calls: string[] = []
    const stop = new AbortController()
    const inspect = fakeInspect(calls)
    const first = await importManifest({
      source,
      catalog,
      mediaRoot: media,
      concurrency: 1,
      signal: stop.signal,
      inspect: async (path) => {
        if (calls.length === 1) stop.abort() // the second probe is the last this run
        return inspect(path)
      }
    })
    expect(first).toMatchObject({ stopped: true, added: 2 })
    expect([...catalog.ids()]).toEqual(['r1', 'r2'])
    calls.length = 0
    const again = await importManifest({ source, catalog, mediaRoot: media, inspect })
    expect(again).toEqual({ rows: 5, added: 3, skipped: 2, found: 3, stopped: false })
    expect(calls).toEqual(['r3', 'r4', 'r5'].map((id) => join(media, `${id}.mp4`)))
    expect(catalog.counts()).toMatchObject({ total: 5, ok: 5 })
    catalog.close()
  })
})

describe('VGGSound CSV', () => {
  it('takes the classes from the label strings and the split from each row', async () => {
    const csv = file('vggsound.csv', '---g-f_I2yQ,1,people marching,test\n--0PQM4-hqg,30,waterfall burbling,train\n--0PQM4-hqg,40,"cattle, bovinae cowbell",train\n')
    const catalog = newCatalog()
    const r = await importManifest({ source: vggSoundSource(csv), catalog })
    expect(r).toMatchObject({ rows: 3, added: 3 })
    expect(catalog.classes()).toEqual(['cattle, bovinae cowbell', 'people marching', 'waterfall burbling'])
    expect(catalog.list().map((c) => [c.id, c.labels, c.split, c.status])).toEqual([
      ['---g-f_I2yQ_000001', [1], 'test', 'missing'],
      ['--0PQM4-hqg_000030', [2], 'train', 'missing'],
      ['--0PQM4-hqg_000040', [0], 'train', 'missing']
    ])
    catalog.close()
  })

  it.each([
    ['wrong column count', 'a,1,dog\n', 1, 'expected 4 columns (YTID, start_seconds, label, split), found 3'],
    ['bad split', 'a,1,dog,train\nb,2,dog,validation\n', 2, 'split "validation" is neither train nor test'],
    ['bad number', 'a,1.5,dog,train\n', 1, 'start_seconds "1.5" is not a whole number of seconds'],
    ['unterminated quote', 'a,1,"dog,train\n', 1, 'unterminated quote (opened at column 5)']
  ])('%s: fails with file:line and writes nothing', async (_case, rows, line, reason) => {
    const csv = file('vgg-bad.csv', rows)
    expect(await failure({ source: vggSoundSource(csv) })).toEqual({ message: `${csv}:${line}: ${reason}`, total: 0 })
  })
})

describe('CAV-MAE JSON datafile', () => {
  const entry = (id: string, labels: string): object => ({ video_id: id, wav: `/data/audio/${id}.wav`, video_path: '/data/frames', labels })

  it('catalogues each entry with its mids resolved, keeping the wav path of a clip not found', async () => {
    const json = file('audioset_eval.json', JSON.stringify({ data: [entry('v1', '/m/0bt9lr,/m/09x0r'), entry('v2', '/m/05tny_')] }, null, 1))
    const catalog = newCatalog()
    await importManifest({ source: cavMaeSource(json, await readClassLabels(LABELS), splitFromFileName(json)), catalog })
    expect(catalog.list().map((c) => [c.id, c.labels, c.split, c.status, c.path])).toEqual([
      ['v1', [1, 0], 'test', 'missing', '/data/audio/v1.wav'],
      ['v2', [2], 'test', 'missing', '/data/audio/v2.wav']
    ])
    catalog.close()
  })

  it.each([
    ['invalid JSON, with its line', '{"data": [\n{"video_id": "a",}\n]}', ':2:18', 'not valid JSON (Expected double-quoted property name in JSON at position 28)'],
    ['not an object', '[1]', ': $', 'expected an object {"data": [...]}'],
    ['no data array', '{"clips": []}', ': $.data', 'expected an array of clips'],
    ['an entry missing a field', JSON.stringify({ data: [entry('a', '/m/09x0r'), { video_id: 'b', wav: 'b.wav', video_path: '/f' }] }), ': $.data[1].labels', 'missing'],
    ['a field of the wrong type', JSON.stringify({ data: [{ ...entry('a', '/m/09x0r'), video_id: 7 }] }), ': $.data[0].video_id', 'expected a string, found 7'],
    ['an unknown class mid', JSON.stringify({ data: [entry('a', '/m/09x0r'), entry('b', '/m/x')] }), ': $.data[1].labels', 'unknown class mid "/m/x" (not in the class list)']
  ])('%s: fails naming the file and place, and writes nothing', async (_case, text, where, reason) => {
    const json = file('bad.json', text)
    const r = await failure({ source: cavMaeSource(json, await readClassLabels(LABELS), 'train') })
    expect(r).toEqual({ message: `${json}${where}: ${reason}`, total: 0 })
  })
})

describe('demo registration', () => {
  it('keeps the user\'s labels, split and exclusion when create-demo registers the demo again', async () => {
    const media = join(dir, 'demo-media')
    mkdirSync(media)
    writeFileSync(join(media, 'n123.mp4'), 'one')
    writeFileSync(join(media, 'n456.mp4'), 'two')
    const manifest = {
      format: 'equiav-demo/1',
      settings: { durationSec: 3, sampleRate: 16000, frameSize: 64 },
      counts: { train: 1, test: 1 },
      classes: Array.from({ length: 10 }, (_, d) => String(d)),
      complete: true,
      clips: [
        { id: 'n123', file: 'n123.mp4', labels: [1, 2, 3], firstDigit: 1, number: '123', voice: 'v', split: 'train' },
        { id: 'n456', file: 'n456.mp4', labels: [4, 5, 6], firstDigit: 4, number: '456', voice: 'v', split: 'test' }
      ]
    } as unknown as DemoManifest
    const catalog = newCatalog()
    await importDemoManifest(media, manifest, catalog)
    catalog.edit('n123', { labels: [9], split: 'test' })
    catalog.edit('n456', { excluded: true })
    await importDemoManifest(media, manifest, catalog)
    expect(catalog.get('n123')).toMatchObject({ labels: [9], split: 'test', excluded: false })
    expect(catalog.get('n456')).toMatchObject({ labels: [4, 5, 6], split: 'test', excluded: true })
    catalog.close()
  })
})
