/**
 * `equiav dataset import` on a folder mixing good media of many kinds with broken files: exit 0, every
 * good clip accepted, every broken file quarantined with its reason.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaDir, type MediaDir } from '../helpers/media'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-import-'))
let media: MediaDir

function equiav(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const GOOD: Record<string, string> = {
  'cats/plain.mp4': '',
  'cats/clip.webm': '',
  'cats/clip.mkv': '',
  'dogs/clip.avi': '',
  'dogs/odd-size.mp4': '',
  'dogs/portrait.mp4': '',
  'dogs/one-fps.mp4': '',
  'dogs/six-channel.mkv': '',
  'dogs/ünïcødé 日本語 clip.mp4': '',
  'dogs/uhd-4k.mp4': '',
  'cats/forty-five-seconds.mp4': ''
}
const BROKEN: Record<string, string> = {
  'cats/empty.mp4': 'corrupt',
  'cats/truncated.mp4': 'corrupt',
  'cats/corrupt-middle.mp4': 'corrupt',
  'cats/random.mp4': 'not-media',
  'cats/notes.mp4': 'not-media',
  'dogs/audio-only.mp4': 'no-video',
  'dogs/video-only.mp4': 'no-audio',
  'dogs/folder.mp4': 'directory',
  'dogs/copy-of-plain.mp4': 'duplicate'
}

beforeAll(async () => {
  media = createMediaDir()
  const made = await media.makeAll([
    { name: 'plain.mp4' },
    { name: 'clip.webm' },
    { name: 'clip.mkv' },
    { name: 'clip.avi' },
    { name: 'odd-size.mp4', video: { width: 65, height: 49 } },
    { name: 'portrait.mp4', video: { width: 36, height: 64 } },
    { name: 'one-fps.mp4', duration: 3, video: { fps: 1 } },
    { name: 'six-channel.mkv', audio: { sampleRate: 48000, frequencies: [220, 330, 440, 550, 660, 770] } },
    { name: 'ünïcødé 日本語 clip.mp4', audio: { frequencies: [660] } },
    { name: 'uhd-4k.mp4', video: { width: 3840, height: 2160, fps: 1 } },
    { name: 'forty-five-seconds.mp4', duration: 45, video: { width: 32, height: 24, fps: 2 } },
    { name: 'audio-only.mp4', video: false },
    { name: 'video-only.mp4', audio: false }
  ])
  const inFolder = (name: string): string => Object.keys({ ...GOOD, ...BROKEN }).find((k) => k.endsWith('/' + name))!
  const root = join(media.dir, 'dataset')
  const place = (from: string, rel: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    renameSync(from, join(root, rel))
  }
  for (const path of made) place(path, inFolder(path.split('/').pop()!))
  place(await media.make({ name: 'copy-of-plain.mp4' }), 'dogs/copy-of-plain.mp4') // same bytes as cats/plain.mp4
  place(await media.broken('empty', 'empty.mp4'), 'cats/empty.mp4')
  place(await media.broken('truncated', 'truncated.mp4'), 'cats/truncated.mp4')
  place(await media.broken('corrupt-middle', 'corrupt-middle.mp4'), 'cats/corrupt-middle.mp4')
  place(await media.broken('random', 'random.mp4'), 'cats/random.mp4')
  place(await media.broken('text', 'notes.mp4'), 'cats/notes.mp4')
  mkdirSync(join(root, 'dogs/folder.mp4'), { recursive: true })
}, 180_000)

afterAll(() => {
  media?.cleanup()
  rmSync(workspace, { recursive: true, force: true })
})

describe('equiav dataset import', () => {
  it('accepts every good clip and quarantines every broken file with its reason', () => {
    const run = equiav('dataset', 'import', '--from', join(media.dir, 'dataset'), '--name', 'mixed')
    expect(run.code, run.err).toBe(0)
    const info = equiav('dataset', 'info', '--name', 'mixed', '--json')
    const parsed = JSON.parse(info.out) as {
      classes: string[]
      clips: { id: string; status: string; reason?: string; detail?: string; labels: number[]; split: string | null }[]
      counts: { ok: number; quarantined: number }
    }
    expect(parsed.classes).toEqual(['cats', 'dogs'])
    const byId = new Map(parsed.clips.map((c) => [c.id, c]))
    for (const id of Object.keys(GOOD)) {
      expect(byId.get(id), id).toMatchObject({ status: 'ok', labels: [id.startsWith('cats') ? 0 : 1] })
      expect(['train', 'test']).toContain(byId.get(id)!.split)
    }
    for (const [id, reason] of Object.entries(BROKEN)) expect(byId.get(id), id).toMatchObject({ status: 'quarantined', reason })
    expect(parsed.counts).toMatchObject({ ok: Object.keys(GOOD).length, quarantined: Object.keys(BROKEN).length })
    // damage mid-file: ffmpeg opens and probes it, and only the full decode at import tells, in its own words
    expect(byId.get('cats/corrupt-middle.mp4')!.reason).toBe('corrupt')
    expect(byId.get('cats/corrupt-middle.mp4')).toMatchObject({ detail: expect.stringMatching(/^does not decode cleanly: \[(aac|h264)\] \w/) })
  })

  it('re-running skips what it has already imported', () => {
    const again = equiav('dataset', 'import', '--from', join(media.dir, 'dataset'), '--name', 'mixed')
    expect(again.code).toBe(0)
    expect(again.err).toMatch(/20 clips: 11 ok .* 9 quarantined/)
  })
})
