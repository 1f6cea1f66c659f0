/**
 * The playback cache's size cap: the least recently used copies go first, never one being served nor the one
 * just made; the cap from EQUIAV_PLAYBACK_CACHE_MB; only the cache's own files are ever listed or removed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_PLAYBACK_CACHE_MB, evictions, playbackCacheCap } from '../../src/main/data/cache-cap'
import { type CacheFile, cacheFiles, removeCacheFiles } from '../../src/main/data/cache-folder'
import { TRANSCODE_NAME, TranscodeCache, type TranscodeSource, type Transcoder, transcodeName } from '../../src/main/data/transcode-cache'
import { finished } from '../helpers/transcodes'

const root = mkdtempSync(join(tmpdir(), 'equiav-playback-cache-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const source = (name: string): TranscodeSource => ({ path: `/src/${name}.avi`, size: 1, mtimeMs: 1, duration: 1 })
/** a stand-in transcoder: 10 bytes per copy; counts its runs */
function tenBytes() {
  const made: string[] = []
  const transcode: Transcoder = async (src, out) => {
    made.push(src)
    writeFileSync(out, '0123456789')
  }
  return { made, transcode }
}

describe('playback cache cap', () => {
  it('removes the least recently used copies, keeping the one being served and the one just made', async () => {
    const dir = join(root, 'lru')
    mkdirSync(dir)
    // what is not the cache's own: a copy being written, other files, a sub-folder and a link named like a copy
    const outside = join(root, 'outside.mp4')
    writeFileSync(outside, 'x'.repeat(100))
    const foreign = ['.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.mp4.tmp-1-00ff', 'notes.txt', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.mp4']
    for (const f of foreign) writeFileSync(join(dir, f), 'y'.repeat(100))
    mkdirSync(join(dir, 'b'.repeat(32) + '.mp4'))
    symlinkSync(outside, join(dir, 'c'.repeat(32) + '.mp4'))
    const others = readdirSync(dir).sort()

    const { made, transcode } = tenBytes()
    const cache = new TranscodeCache(transcode, 1, 25)
    const at = (n: string): string => join(dir, transcodeName(source(n)))
    const usedSecondsAgo = (n: string, s: number): void => utimesSync(at(n), new Date(Date.now() - s * 1000), new Date(Date.now() - s * 1000))
    const copies = (): string[] => readdirSync(dir).filter((f) => !others.includes(f)).sort()
    const named = (...ns: string[]): string[] => ns.map((n) => transcodeName(source(n))).sort()

    await finished(cache, dir, source('a'))
    await finished(cache, dir, source('b'))
    usedSecondsAgo('a', 300)
    usedSecondsAgo('b', 200)
    // a is asked for again (the player's request marks it used): now b is the least recently used
    expect(await cache.request(dir, source('a'))).toEqual({ state: 'ready', path: at('a') })
    await finished(cache, dir, source('c'))
    expect(copies()).toEqual(named('a', 'c'))

    // a is being served: kept though it is the least recently used; c goes
    const release = cache.hold(at('a'))
    usedSecondsAgo('a', 300)
    usedSecondsAgo('c', 100)
    await finished(cache, dir, source('d'))
    expect(copies()).toEqual(named('a', 'd'))
    release()

    // a removed copy is made again when it is asked for
    expect(await finished(cache, dir, source('b'))).toEqual({ state: 'ready', path: at('b') })
    expect(made.filter((m) => m === '/src/b.avi')).toHaveLength(2)
    // none of the folder's other entries was touched, nor the file the link leads to
    expect(readdirSync(dir).filter((f) => others.includes(f)).sort()).toEqual(others)
    expect(existsSync(outside)).toBe(true)
  })

  it('keeps the copy just made even when it alone is over the cap', async () => {
    const dir = join(root, 'zero')
    const cache = new TranscodeCache(tenBytes().transcode, 1, 0)
    await finished(cache, dir, source('x'))
    expect(readdirSync(dir)).toEqual([transcodeName(source('x'))])
    await finished(cache, dir, source('y'))
    expect(readdirSync(dir)).toEqual([transcodeName(source('y'))])
  })

  it('evicts oldest first, never a kept file, until the rest fit or only kept ones are left', () => {
    const file = fc.record({ name: fc.stringMatching(/^[0-9a-f]{32}\.mp4$/), bytes: fc.nat(1000), usedMs: fc.nat(10_000) })
    fc.assert(
      fc.property(fc.uniqueArray(file, { selector: (f) => f.name, maxLength: 20 }), fc.nat(5000), fc.func(fc.boolean()), (files, cap, keep) => {
        const kept = (name: string): boolean => keep(name)
        const out = evictions(files, cap, kept)
        const gone = new Set(out.map((f) => f.name))
        const left = files.filter((f) => !gone.has(f.name))
        expect(out.some((f) => kept(f.name))).toBe(false)
        const total = left.reduce((s, f) => s + f.bytes, 0)
        if (total > cap) expect(left.every((f) => kept(f.name))).toBe(true)
        // least recently used first: every evicted file was used no later than every evictable one left
        const latestGone = Math.max(-Infinity, ...out.map((f) => f.usedMs))
        for (const f of left) if (!kept(f.name)) expect(f.usedMs).toBeGreaterThanOrEqual(latestGone)
      })
    )
  })

  it('reads its cap from EQUIAV_PLAYBACK_CACHE_MB, in MiB, and refuses a value that is not a size', () => {
    expect(playbackCacheCap({})).toBe(DEFAULT_PLAYBACK_CACHE_MB * 2 ** 20)
    expect(DEFAULT_PLAYBACK_CACHE_MB).toBe(2048)
    expect(playbackCacheCap({ EQUIAV_PLAYBACK_CACHE_MB: '512' })).toBe(512 * 2 ** 20)
    expect(playbackCacheCap({ EQUIAV_PLAYBACK_CACHE_MB: '0' })).toBe(0)
    expect(() => playbackCacheCap({ EQUIAV_PLAYBACK_CACHE_MB: '2GB' })).toThrow(/EQUIAV_PLAYBACK_CACHE_MB="2GB": give the playback cache's size cap in MiB/)
    expect(() => playbackCacheCap({ EQUIAV_PLAYBACK_CACHE_MB: '-1' })).toThrow(/EQUIAV_PLAYBACK_CACHE_MB="-1"/)
  })
})

describe('cache folder removal', () => {
  it('reports a file it cannot remove and removes the rest; refuses a name that is not the cache’s', async () => {
    const dir = join(root, 'remove')
    mkdirSync(dir)
    const name = (c: string): string => `${c.repeat(32)}.mp4`
    writeFileSync(join(dir, name('1')), 'abc')
    writeFileSync(join(dir, name('2')), 'defg')
    // a folder cannot be unlinked, even by root: it stands for a file the system refuses to remove
    mkdirSync(join(dir, name('3')))
    writeFileSync(join(root, 'victim.mp4'), 'keep me')
    const listed = await cacheFiles(dir, TRANSCODE_NAME)
    expect(listed.map((f) => f.name).sort()).toEqual([name('1'), name('2')])
    const asked: CacheFile[] = [
      { name: name('3'), bytes: 0, usedMs: 0 },
      ...listed,
      { name: '../victim.mp4', bytes: 7, usedMs: 0 },
      { name: name('4'), bytes: 9, usedMs: 0 } // already gone: nothing freed, nothing failed
    ]
    const r = await removeCacheFiles(dir, asked, TRANSCODE_NAME)
    expect(r.files).toBe(2)
    expect(r.bytes).toBe(7)
    expect(r.failed.map((f) => f.file)).toEqual([name('3'), '../victim.mp4'])
    expect(r.failed[0].reason).toMatch(/^E[A-Z]+: /)
    expect(r.failed[0].reason).not.toContain(dir)
    expect(r.failed[1].reason).toBe('not a name this cache gives its files')
    expect(readdirSync(dir)).toEqual([name('3')])
    expect(existsSync(join(root, 'victim.mp4'))).toBe(true)
    expect(await cacheFiles(join(root, 'no-such-folder'), TRANSCODE_NAME)).toEqual([])
  })
})
