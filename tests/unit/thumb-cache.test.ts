/** The grid's thumbnail cache: made once per file version, shared while made, written whole, a failure not kept. */
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ThumbCache } from '../../src/main/data/thumb-cache'

const root = mkdtempSync(join(tmpdir(), 'equiav-thumbs-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('ThumbCache', () => {
  it('makes a thumbnail once per version of a file, shares one being made, and keeps none that failed', async () => {
    const clip = join(root, 'clip.mp4')
    writeFileSync(clip, 'v1')
    const dir = join(root, 'thumbs')
    const made: string[] = []
    let fail = false
    const cache = new ThumbCache(async (file) => {
      made.push(file)
      await new Promise((r) => setTimeout(r, 20))
      if (fail) throw new Error('no video frame could be decoded')
      return Buffer.from(`jpeg of ${file} #${made.length}`)
    })
    // two requests at once: one ffmpeg run, the same bytes
    const [a, b] = await Promise.all([cache.get(dir, clip), cache.get(dir, clip)])
    expect(made).toHaveLength(1)
    expect(a.equals(b)).toBe(true)
    // kept on disk, whole (no temporary file left): a new cache (a restarted server) reads it without making it
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.jpg$/)])
    const again = new ThumbCache(() => Promise.reject(new Error('must not be called')))
    expect((await again.get(dir, clip)).equals(a)).toBe(true)

    // the file replaced: a new thumbnail; a failed one is not kept, and the next request tries again
    writeFileSync(clip, 'version 2')
    utimesSync(clip, new Date(), new Date(Date.now() + 5000))
    fail = true
    await expect(cache.get(dir, clip)).rejects.toThrow(/no video frame/)
    expect(readdirSync(dir)).toHaveLength(1)
    fail = false
    expect((await cache.get(dir, clip)).toString()).toBe(`jpeg of ${clip} #3`)
    expect(readdirSync(dir)).toHaveLength(2)
  })
})
