/**
 * The files of a cache folder (a dataset's `playback/` or `thumbs/`) and their removal. Only regular files
 * whose names match the cache's own pattern (a 32-hex digest and its extension) are ever listed, so a
 * temporary sibling being written (`.<name>.tmp-…`), a link, a sub-folder or anything else put there is never
 * touched, and nothing outside the folder can be named. A file that cannot be removed is reported with the
 * reason and the others are still removed; one already gone (another process removed it) is skipped.
 */
import type { Dirent } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** The names a cache gives its files: a digest (transcode-cache.ts sourceDigest) and the extension. */
export const cacheName = (ext: 'mp4' | 'jpg'): RegExp => new RegExp(`^[0-9a-f]{32}\\.${ext}$`)

export interface CacheFile {
  name: string
  bytes: number
  /** when it was last used (its modification time, set on each use) */
  usedMs: number
}

export interface Removal {
  files: number
  bytes: number
  failed: { file: string; reason: string }[]
}

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT'

/** The cache's own files in `dir` (none when it does not exist yet). */
export async function cacheFiles(dir: string, pattern: RegExp): Promise<CacheFile[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isMissing(err)) return []
    throw err
  }
  const out: CacheFile[] = []
  for (const e of entries) {
    if (!e.isFile() || !pattern.test(e.name)) continue
    const st = await lstat(join(dir, e.name)).catch((err: unknown) => {
      if (isMissing(err)) return null
      throw err
    })
    if (st?.isFile()) out.push({ name: e.name, bytes: st.size, usedMs: st.mtimeMs })
  }
  return out
}

/** Removes `files` from `dir`, each checked against the cache's `pattern` again; what was freed and what failed. */
export async function removeCacheFiles(dir: string, files: readonly CacheFile[], pattern: RegExp): Promise<Removal> {
  const done: Removal = { files: 0, bytes: 0, failed: [] }
  for (const f of files) {
    if (!pattern.test(f.name)) {
      done.failed.push({ file: f.name, reason: 'not a name this cache gives its files' })
      continue
    }
    try {
      await unlink(join(dir, f.name))
      done.files++
      done.bytes += f.bytes
    } catch (err) {
      // the reason without the path (it reaches the workbench, which is never shown the workspace's paths)
      if (!isMissing(err)) done.failed.push({ file: f.name, reason: (err instanceof Error ? err.message : String(err)).replace(/, unlink '.*'$/, '') })
    }
  }
  return done
}
