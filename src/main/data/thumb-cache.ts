/**
 * The clip grid's thumbnails (a frame from the middle of the clip, 160 px wide, ffmpeg.ts `thumbnail`), made
 * once and kept as JPEGs in a dataset's `thumbs/` folder beside its playback transcodes, named like them by a
 * digest of the file's path, size and modification time (a replaced file gets a new one). Each is written to
 * a temporary sibling and renamed into place; requests for one being made share that ffmpeg run, and a
 * failure is not kept (the next request tries again).
 */
import { stat, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic'
import { cacheName } from './cache-folder'
import { thumbnail } from './ffmpeg'
import { sourceDigest } from './transcode-cache'

export const THUMB_WIDTH = 160
/** The names of the thumbnails in a thumbs folder (the others there are never touched). */
export const THUMB_NAME = cacheName('jpg')

export class ThumbCache {
  private readonly making = new Map<string, Promise<Buffer>>()

  constructor(private readonly make: (file: string) => Promise<Buffer> = (file) => thumbnail(file, { width: THUMB_WIDTH })) {}

  /** The thumbnail of `file`, from the folder `dir` or made now and kept there. */
  async get(dir: string, file: string): Promise<Buffer> {
    const st = await stat(file)
    const out = join(dir, `${sourceDigest({ path: file, size: st.size, mtimeMs: st.mtimeMs })}.jpg`)
    const kept = await readFile(out).catch(() => null)
    if (kept) return kept
    let made = this.making.get(out)
    if (!made) {
      made = this.produce(dir, out, file).finally(() => this.making.delete(out))
      this.making.set(out, made)
    }
    return made
  }

  private async produce(dir: string, out: string, file: string): Promise<Buffer> {
    const jpeg = await this.make(file)
    await mkdir(dir, { recursive: true })
    await writeFileAtomic(out, jpeg)
    return jpeg
  }
}
