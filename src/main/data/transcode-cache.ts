/**
 * Browser-playable copies of media files, made once and kept in a cache folder (a dataset's `playback/`).
 * A copy is named by a digest of its source's path, size and modification time, so a replaced or edited file
 * gets a new one; it is written to a temporary sibling and renamed into place, so the cache never holds half a
 * file. Requests for a source while its copy is made share that one transcode; at most `concurrency`
 * transcodes run at a time and the rest wait, queued. The state is kept for the process's lifetime: a failed
 * transcode stays failed (with ffmpeg's reason) until the source changes.
 * Each request that finds a copy marks it used (its modification time); after a copy is made, the folder is
 * brought under its size cap (cache-cap.ts) by removing the least recently used copies, never the one just
 * made nor one being served (held from the start of its response to its end).
 */
import { createHash } from 'node:crypto'
import { mkdir, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { produceFileAtomic, syncFile } from '../util/atomic'
import { limiter } from '../util/limiter'
import { evictions, playbackCacheCap } from './cache-cap'
import { cacheFiles, cacheName, removeCacheFiles } from './cache-folder'
import { transcodeToMp4, type TranscodeOptions } from './ffmpeg'

export interface TranscodeSource {
  path: string
  size: number
  mtimeMs: number
  /** seconds, for the progress fraction */
  duration: number
}

export type TranscodeState =
  | { state: 'queued' }
  | { state: 'transcoding'; percent: number }
  | { state: 'ready'; path: string }
  | { state: 'failed'; reason: string }

/** Writes a playable copy of `source` to `out` (transcodeToMp4, or a stand-in in tests). */
export type Transcoder = (source: string, out: string, options: TranscodeOptions) => Promise<void>

/** A digest of where a file is, its size and its modification time: the name of what is made from that version of it. */
export function sourceDigest(source: Pick<TranscodeSource, 'path' | 'size' | 'mtimeMs'>): string {
  return createHash('sha256').update(JSON.stringify([source.path, source.size, source.mtimeMs])).digest('hex').slice(0, 32)
}

/** The copy's file name. */
export const transcodeName = (source: Pick<TranscodeSource, 'path' | 'size' | 'mtimeMs'>): string => `${sourceDigest(source)}.mp4`

/** The names of the copies in a playback folder (the others there are never touched). */
export const TRANSCODE_NAME = cacheName('mp4')

/** Marks a copy used now; false when it is not there. */
function touch(path: string): Promise<boolean> {
  const now = new Date()
  return utimes(path, now, now).then(
    () => true,
    () => false
  )
}

export class TranscodeCache {
  private readonly states = new Map<string, TranscodeState>()
  private readonly slot: <T>(task: () => Promise<T>) => Promise<T>
  /** copies being served: how many responses hold each */
  private readonly held = new Map<string, number>()

  constructor(
    private readonly transcode: Transcoder = transcodeToMp4,
    concurrency = 1,
    /** the size cap of each playback folder, in bytes */
    readonly capBytes = playbackCacheCap()
  ) {
    this.slot = limiter(concurrency)
  }

  /** Keeps the copy at `path` while it is served; call the returned function (once) when its response ends. */
  hold(path: string): () => void {
    this.held.set(path, (this.held.get(path) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.held.get(path) ?? 1) - 1
      if (n > 0) this.held.set(path, n)
      else this.held.delete(path)
    }
  }

  /** Whether the copy at `path` is being served. */
  inUse(path: string): boolean {
    return this.held.has(path)
  }

  /** The state of `source`'s copy in the folder `dir`; starts making it when it is neither there nor under way. */
  async request(dir: string, source: TranscodeSource): Promise<TranscodeState> {
    const out = join(dir, transcodeName(source))
    const known = this.states.get(out)
    if (known && (known.state !== 'ready' || (await touch(out)))) return { ...known }
    // claimed before any await, so a concurrent request for the same source finds it
    this.states.set(out, { state: 'queued' })
    if (await touch(out)) return this.settle(out, { state: 'ready', path: out })
    void this.slot(() => this.make(out, source))
    return { state: 'queued' }
  }

  private settle(out: string, state: TranscodeState): TranscodeState {
    this.states.set(out, state)
    return { ...state }
  }

  private async make(out: string, source: TranscodeSource): Promise<void> {
    this.states.set(out, { state: 'transcoding', percent: 0 })
    try {
      await mkdir(dirname(out), { recursive: true })
      await produceFileAtomic(out, async (temp) => {
        const onProgress = (fraction: number): void => void this.states.set(out, { state: 'transcoding', percent: Math.floor(100 * fraction) })
        await this.transcode(source.path, temp, { duration: source.duration, onProgress })
        await syncFile(temp)
      })
    } catch (err) {
      this.settle(out, { state: 'failed', reason: err instanceof Error ? err.message : String(err) })
      return
    }
    // ready once the folder is under its cap again, so whoever waits for the copy finds the folder as it stays
    await this.trim(dirname(out), out)
    this.settle(out, { state: 'ready', path: out })
  }

  /** Brings the folder `dir` under the cap, keeping `made` and the copies being served; failures are reported, not thrown. */
  private async trim(dir: string, made: string): Promise<void> {
    try {
      const kept = (name: string): boolean => join(dir, name) === made || this.inUse(join(dir, name))
      const removed = await removeCacheFiles(dir, evictions(await cacheFiles(dir, TRANSCODE_NAME), this.capBytes, kept), TRANSCODE_NAME)
      for (const f of removed.failed) console.warn(`playback cache ${dir}: could not remove ${f.file}: ${f.reason}`)
    } catch (err) {
      console.warn(`playback cache ${dir}: could not apply its size cap: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
