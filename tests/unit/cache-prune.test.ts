/**
 * Pruning a dataset's caches: exactly the copies of file versions no usable clip has any more are removed
 * (a replaced, removed or quarantined clip's), from playback/ and thumbs/; nothing else in those folders;
 * the `datasets.pruneCache` method (input checked) and `equiav dataset prune-cache` (its summary).
 */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/index'
import { ClipPlayback } from '../../src/main/api/playback'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { Catalog, type ClipRecord } from '../../src/main/data/catalog'
import { DatasetCatalogs } from '../../src/main/data/datasets'
import { sourceDigest } from '../../src/main/data/transcode-cache'
import { JobRunner } from '../../src/main/jobs/runner'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'equiav-prune-')))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const KIB = 1024
const clip = (id: string, path: string, status: ClipRecord['status'] = 'ok'): ClipRecord => ({
  id,
  path,
  size: 1,
  mtimeMs: 1,
  duration: 1,
  audio: 'pcm_u8',
  video: 'cinepak',
  labels: [0],
  split: 'train',
  status,
  reason: status === 'quarantined' ? 'corrupt' : null,
  detail: null,
  hash: null,
  excluded: false
})

/**
 * A workspace with dataset `d` of 5 clips, each with a cached transcode (400 KiB) and thumbnail (2 KiB); then
 * one file edited, one removed and one clip quarantined. Returns the names that must survive a prune.
 */
function stock(workspace: string): { dataset: string; kept: { playback: string[]; thumbs: string[] }; stale: { playback: string[]; thumbs: string[] } } {
  const media = join(workspace, 'media')
  mkdirSync(media, { recursive: true })
  const dataset = join(workspace, 'datasets', 'd')
  for (const f of ['playback', 'thumbs']) mkdirSync(join(dataset, f), { recursive: true })
  const names = ['same', 'edited', 'removed', 'quarantined', 'excluded']
  const paths = Object.fromEntries(names.map((n) => [n, join(media, `${n}.avi`)]))
  const copies = (n: string): { playback: string; thumbs: string } => {
    const st = statSync(paths[n])
    const digest = sourceDigest({ path: paths[n], size: st.size, mtimeMs: st.mtimeMs })
    writeFileSync(join(dataset, 'playback', `${digest}.mp4`), Buffer.alloc(400 * KIB))
    writeFileSync(join(dataset, 'thumbs', `${digest}.jpg`), Buffer.alloc(2 * KIB))
    return { playback: `${digest}.mp4`, thumbs: `${digest}.jpg` }
  }
  for (const n of names) writeFileSync(paths[n], `the ${n} clip`)
  const before = Object.fromEntries(names.map((n) => [n, copies(n)]))
  writeFileSync(paths.edited, 'the edited clip, edited')
  utimesSync(paths.edited, new Date(), new Date(Date.now() + 60_000))
  const editedNow = copies('edited')
  unlinkSync(paths.removed)
  const catalog = Catalog.open(dataset)
  catalog.upsert(names.map((n) => ({ ...clip(n, paths[n], n === 'quarantined' ? 'quarantined' : 'ok'), excluded: n === 'excluded' })))
  catalog.close()
  // a copy being written, and files that are not the cache's
  for (const f of ['playback', 'thumbs']) {
    writeFileSync(join(dataset, f, `.${before.same.playback}.tmp-7-00aa`), 'half')
    writeFileSync(join(dataset, f, 'README.txt'), 'mine')
  }
  const pick = (ns: { playback: string; thumbs: string }[], f: 'playback' | 'thumbs'): string[] => ns.map((c) => c[f]).sort()
  const kept = [before.same, before.excluded, editedNow]
  const stale = [before.edited, before.removed, before.quarantined]
  return { dataset, kept: { playback: pick(kept, 'playback'), thumbs: pick(kept, 'thumbs') }, stale: { playback: pick(stale, 'playback'), thumbs: pick(stale, 'thumbs') } }
}

const cacheFilesIn = (dir: string): string[] => readdirSync(dir).filter((f) => /^[0-9a-f]{32}\./.test(f)).sort()

describe('datasets.pruneCache', () => {
  const workspace = join(root, 'api')
  const { dataset, kept, stale } = stock(workspace)
  const catalogs = new DatasetCatalogs(workspace)
  const playback = new ClipPlayback(workspace)
  const router = createRouter(workspaceServices(workspace, '1', new JobRunner(workspace), catalogs, playback))

  it('checks its input', async () => {
    await expect(router('datasets.pruneCache', {})).rejects.toThrow(/^datasets\.pruneCache: dataset/)
    await expect(router('datasets.pruneCache', { dataset: '../d' })).rejects.toThrow(/a dataset name/)
    await expect(router('datasets.pruneCache', { dataset: 'd', folder: 'playback' })).rejects.toThrow(/folder/)
    await expect(router('datasets.pruneCache', { dataset: 'nope' })).rejects.toThrow(/no dataset "nope"/)
    expect(cacheFilesIn(join(dataset, 'playback'))).toHaveLength(6)
  })

  it('removes exactly the copies of versions no usable clip has, keeping one being served', async () => {
    // a stale copy still streamed to the player is left for a later prune
    const served = join(dataset, 'playback', stale.playback[0])
    const release = playback.transcodes.hold(served)
    const first = await router('datasets.pruneCache', { dataset: 'd' })
    expect(first).toEqual({
      folders: [
        { folder: 'playback', files: 2, bytes: 2 * 400 * KIB, failed: [] },
        { folder: 'thumbs', files: 3, bytes: 3 * 2 * KIB, failed: [] }
      ]
    })
    expect(cacheFilesIn(join(dataset, 'playback'))).toEqual([...kept.playback, stale.playback[0]].sort())
    expect(cacheFilesIn(join(dataset, 'thumbs'))).toEqual(kept.thumbs)
    release()
    expect(await router('datasets.pruneCache', { dataset: 'd' })).toMatchObject({ folders: [{ folder: 'playback', files: 1, bytes: 400 * KIB }, { folder: 'thumbs', files: 0 }] })
    expect(cacheFilesIn(join(dataset, 'playback'))).toEqual(kept.playback)
    // the temporary copy being written and the other files are untouched
    for (const f of ['playback', 'thumbs']) expect(readdirSync(join(dataset, f)).filter((n) => !/^[0-9a-f]{32}\./.test(n)).sort()).toEqual([expect.stringMatching(/\.tmp-7-00aa$/), 'README.txt'])
  })
})

describe('equiav dataset prune-cache', () => {
  it('prints what it freed in each folder', async () => {
    const workspace = join(root, 'cli')
    const { dataset, kept } = stock(workspace)
    const out: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true))
    let code: number
    try {
      code = await main(['dataset', 'prune-cache', '--name', 'd', '--workspace', workspace])
    } finally {
      spy.mockRestore()
    }
    expect(code).toBe(0)
    expect(out.join('')).toBe('dataset "d": stale cached copies removed\n  playback/  3 files, 1.2 MiB freed\n  thumbs/    3 files, 6 KiB freed\n')
    expect(cacheFilesIn(join(dataset, 'playback'))).toEqual(kept.playback)
    expect(cacheFilesIn(join(dataset, 'thumbs'))).toEqual(kept.thumbs)
  })
})
