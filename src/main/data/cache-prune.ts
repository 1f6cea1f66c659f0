/**
 * Pruning a dataset's caches: a transcode in `playback/` or a thumbnail in `thumbs/` whose digest is that of
 * no usable clip's file as it is now (the file was replaced, edited or removed, or its clip deleted or
 * quarantined) can never be served again, and is removed. The folders are listed before the clips' files are
 * looked at, so a copy made meanwhile is never taken for a stale one.
 */
import { realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { limiter } from '../util/limiter'
import { cacheFiles, type Removal, removeCacheFiles } from './cache-folder'
import { THUMB_NAME } from './thumb-cache'
import { sourceDigest, TRANSCODE_NAME } from './transcode-cache'

export const CACHE_FOLDERS = [
  { folder: 'playback', pattern: TRANSCODE_NAME },
  { folder: 'thumbs', pattern: THUMB_NAME }
] as const

export type CacheFolder = (typeof CACHE_FOLDERS)[number]['folder']

export interface FolderPrune extends Removal {
  folder: CacheFolder
}

/** files looked at at once */
const STATS_AT_ONCE = 16

/** The digests of the files `paths` lead to now (links resolved, as the media endpoint serves them); a file gone has none. */
export async function currentDigests(paths: readonly string[]): Promise<Set<string>> {
  const slot = limiter(STATS_AT_ONCE)
  const digest = async (path: string): Promise<string | null> => {
    const real = await realpath(path).catch(() => null)
    const st = real === null ? null : await stat(real).catch(() => null)
    return real !== null && st ? sourceDigest({ path: real, size: st.size, mtimeMs: st.mtimeMs }) : null
  }
  const digests = await Promise.all(paths.map((p) => slot(() => digest(p))))
  return new Set(digests.filter((d): d is string => d !== null))
}

/**
 * Removes the stale copies from the caches of the dataset in the folder `dir`. `okPaths` gives the files of
 * its usable clips (Catalog.okPaths); a copy `inUse` (being served) is kept.
 */
export async function pruneCaches(dir: string, okPaths: () => Promise<string[]>, inUse: (path: string) => boolean = () => false): Promise<FolderPrune[]> {
  const listed = await Promise.all(CACHE_FOLDERS.map(async (c) => ({ ...c, files: await cacheFiles(join(dir, c.folder), c.pattern) })))
  const live = await currentDigests(await okPaths())
  const out: FolderPrune[] = []
  for (const { folder, pattern, files } of listed) {
    const stale = files.filter((f) => !live.has(f.name.slice(0, f.name.indexOf('.'))) && !inUse(join(dir, folder, f.name)))
    out.push({ folder, ...(await removeCacheFiles(join(dir, folder), stale, pattern)) })
  }
  return out
}
