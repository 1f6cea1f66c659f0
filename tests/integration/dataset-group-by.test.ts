/**
 * `equiav dataset import --group-by` on a folder of windows cut from 6 recordings: without it the report
 * warns that the names look like windows and suggests the grouping; with it every window of a recording
 * lands in the same split, and `dataset info --json` shows each clip's group.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaDir, type MediaDir } from '../helpers/media'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-group-by-'))
let media: MediaDir
let folder: string

function equiav(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(async () => {
  media = createMediaDir()
  folder = join(media.dir, 'windows')
  mkdirSync(folder)
  // recording r, window w: its own tone, so no two files have the same content
  const specs = Array.from({ length: 18 }, (_, i) => ({ name: `street${Math.floor(i / 3)}_${(i % 3) * 10}-${(i % 3) * 10 + 10}.mp4`, duration: 0.5, audio: { frequencies: [200 + 40 * i] } }))
  const made = await media.makeAll(specs)
  made.forEach((p, i) => renameSync(p, join(folder, specs[i].name)))
}, 180_000)

afterAll(() => {
  media?.cleanup()
  rmSync(workspace, { recursive: true, force: true })
})

describe('equiav dataset import --group-by', () => {
  it('warns about window names when no grouping is set', () => {
    const r = equiav('dataset', 'import', '--from', folder, '--name', 'flat')
    expect(r.code, r.err).toBe(0)
    expect(r.err).toMatch(/warning: 18 of 18 file names look like windows of 6 recordings \(e\.g\. "street0_0-10\.mp4", "street0_10-20\.mp4"\)/)
    expect(r.err).toContain('--group-by')
  }, 120_000)

  it('keeps every window of a recording in one split, and stores the group', () => {
    const r = equiav('dataset', 'import', '--from', folder, '--name', 'grouped', '--group-by', '^(street\\d+)_', '--test-fraction', '0.34', '--seed', '3')
    expect(r.code, r.err).toBe(0)
    expect(r.err).not.toMatch(/warning/)
    const info = equiav('dataset', 'info', '--name', 'grouped', '--json')
    const clips = (JSON.parse(info.out) as { clips: { id: string; split: string; group?: string; status: string }[] }).clips
    expect(clips.filter((c) => c.status === 'ok')).toHaveLength(18)
    const splitsOf = new Map<string, Set<string>>()
    for (const c of clips) {
      expect(c.group).toBe(c.id.split('_')[0])
      splitsOf.set(c.group!, (splitsOf.get(c.group!) ?? new Set()).add(c.split))
    }
    expect(splitsOf.size).toBe(6)
    for (const [group, splits] of splitsOf) expect([...splits], group).toHaveLength(1)
    expect([...splitsOf.values()].filter((s) => s.has('test'))).toHaveLength(2) // 6 of 18 clips requested: 2 recordings
  }, 120_000)

  it('refuses a pattern without a capture group before importing anything', () => {
    const r = equiav('dataset', 'import', '--from', folder, '--name', 'bad', '--group-by', '^street\\d+_')
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/--group-by "\^street\\\\d\+_": needs a capture group/)
    expect(equiav('dataset', 'info', '--name', 'bad').code).not.toBe(0)
  }, 60_000)
})
