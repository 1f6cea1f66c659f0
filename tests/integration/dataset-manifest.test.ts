/**
 * `equiav dataset import --audioset-csv … --media-root` on tiny generated clips, `dataset export` to the
 * CAV-MAE layout (wav + ten 224² frames + datafile) and to CSV, and the round trip: importing the exported
 * datafile gives the same clips and labels.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import { cavMaeSource } from '../../src/main/data/importers/cavmae-json'
import { importManifest } from '../../src/main/data/importers/manifest-import'
import { readClassLabels } from '../../src/main/data/importers/manifest-reader'
import { createMediaDir, type MediaDir } from '../helpers/media'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
let media: MediaDir
let workspace: string

function equiav(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** Width and height from a baseline or progressive JPEG's SOF marker. */
function jpegSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.readUInt16BE(0)).toBe(0xffd8)
  for (let at = 2; at < bytes.length; ) {
    const marker = bytes.readUInt16BE(at)
    if (marker === 0xffc0 || marker === 0xffc2) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) }
    at += 2 + bytes.readUInt16BE(at + 2)
  }
  throw new Error('no SOF marker')
}

beforeAll(async () => {
  media = createMediaDir()
  workspace = join(media.dir, 'workspace')
  await media.makeAll([
    { name: 'clipA_30.mp4', duration: 2, video: { width: 64, height: 48 }, audio: { sampleRate: 44100, frequencies: [440, 880] } },
    { name: 'clipB.mkv', duration: 1, video: { width: 36, height: 64 } }
  ])
  writeFileSync(join(media.dir, 'labels.csv'), 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05tny_,"Bark, dog"\n')
  writeFileSync(
    join(media.dir, 'eval_segments.csv'),
    '# YTID, start_seconds, end_seconds, positive_labels\nclipA, 30.000, 40.000, "/m/05tny_,/m/09x0r"\nclipB, 0.000, 10.000, "/m/09x0r"\nclipC, 0.000, 10.000, "/m/05tny_"\n'
  )
}, 120_000)

afterAll(() => media?.cleanup())

describe('manifest import and export', () => {
  it('imports an AudioSet CSV with media, exports it for CAV-MAE and as CSV, and the datafile imports back the same', async () => {
    const imported = equiav('dataset', 'import', '--audioset-csv', join(media.dir, 'eval_segments.csv'), '--labels', join(media.dir, 'labels.csv'), '--media-root', media.dir, '--name', 'as', '--json')
    expect(imported.code, imported.err).toBe(0)
    expect(JSON.parse(imported.out)).toMatchObject({ manifest: { rows: 3, added: 3, found: 2 }, counts: { total: 3, ok: 2, missing: 1, bySplit: { test: 2 } } })

    const out = join(media.dir, 'export')
    const exported = equiav('dataset', 'export', '--name', 'as', '--format', 'cavmae', '--out', out, '--json')
    expect(exported.code, exported.err).toBe(0)
    expect(JSON.parse(exported.out)).toMatchObject({ exported: 2, reused: 0, failed: [], left: 1 })

    // 16 kHz mono 16-bit: 44-byte header + 2 bytes per sample; AAC adds up to one 1024-sample frame of padding
    for (const [id, seconds] of [['clipA', 2], ['clipB', 1]] as const) {
      const wav = readFileSync(join(out, 'audio', `${id}.wav`))
      expect(wav.toString('ascii', 0, 4)).toBe('RIFF')
      expect([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)]).toEqual([1, 16000, 16])
      expect(wav.readUInt32LE(40)).toBe(wav.length - 44)
      expect((wav.length - 44) / 2 / 16000).toBeGreaterThanOrEqual(seconds)
      expect((wav.length - 44) / 2 / 16000).toBeLessThan(seconds + 2048 / 44100)
    }
    for (const id of ['clipA', 'clipB']) {
      for (let k = 0; k < 10; k++) expect(jpegSize(readFileSync(join(out, 'frames', `frame_${k}`, `${id}.jpg`)))).toEqual({ width: 224, height: 224 })
    }
    const datafile = JSON.parse(readFileSync(join(out, 'test.json'), 'utf8')) as { data: Record<string, string>[] }
    expect(datafile.data).toEqual([
      { video_id: 'clipA', wav: join(out, 'audio', 'clipA.wav'), video_path: join(out, 'frames'), labels: '/m/05tny_,/m/09x0r' },
      { video_id: 'clipB', wav: join(out, 'audio', 'clipB.wav'), video_path: join(out, 'frames'), labels: '/m/09x0r' }
    ])
    expect(readFileSync(join(out, 'class_labels_indices.csv'), 'utf8')).toBe('index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05tny_,"Bark, dog"\n')

    // a second export finds every clip's files and extracts nothing
    const again = equiav('dataset', 'export', '--name', 'as', '--format', 'cavmae', '--out', out, '--json')
    expect(JSON.parse(again.out)).toMatchObject({ exported: 2, reused: 2 })

    // round trip: the exported datafile, read with the exported class list, holds the same clips and labels
    const back = Catalog.open(join(media.dir, 'roundtrip'))
    await importManifest({ source: cavMaeSource(join(out, 'test.json'), await readClassLabels(join(out, 'class_labels_indices.csv')), 'test'), catalog: back, mediaRoot: media.dir })
    const original = Catalog.open(join(workspace, 'datasets', 'as'))
    const usable = original.list({ status: 'ok' })
    const named = (c: Catalog, labels: number[]): string[] => labels.map((l) => c.classes()[l])
    expect(back.list().map((c) => [c.id, named(back, c.labels), c.status])).toEqual(usable.map((c) => [c.id, named(original, c.labels), 'ok']))
    original.close()
    back.close()

    const csv = equiav('dataset', 'export', '--name', 'as', '--format', 'csv', '--out', out)
    expect(csv.code, csv.err).toBe(0)
    expect(readFileSync(join(out, 'clips.csv'), 'utf8').split('\n')).toEqual([
      'id,path,labels,split,status,reason,detail,excluded',
      `clipA,${join(media.dir, 'clipA_30.mp4')},"Bark, dog;Speech",test,ok,,,0`,
      `clipB,${join(media.dir, 'clipB.mkv')},Speech,test,ok,,,0`,
      `clipC,${join(media.dir, 'clipC_0.000.mp4')},"Bark, dog",test,missing,,not downloaded: no clipC_0.000.* or clipC_0.* or clipC_000000.* or clipC.* under ${media.dir},0`,
      ''
    ])
    rmSync(out, { recursive: true, force: true })
  }, 120_000)
})
