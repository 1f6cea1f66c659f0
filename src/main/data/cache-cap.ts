/**
 * The size cap of a dataset's `playback/` folder: how large it may grow (EQUIAV_PLAYBACK_CACHE_MB, default
 * 2 GiB) and which copies go when it is over, least recently used first.
 */
import type { CacheFile } from './cache-folder'

export const DEFAULT_PLAYBACK_CACHE_MB = 2048
const MIB = 1 << 20

/** The cap in bytes from EQUIAV_PLAYBACK_CACHE_MB (MiB; 0 keeps only the copies in use); a clear error when it is not a number. */
export function playbackCacheCap(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.EQUIAV_PLAYBACK_CACHE_MB
  if (v === undefined || v.trim() === '') return DEFAULT_PLAYBACK_CACHE_MB * MIB
  const mb = Number(v)
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`EQUIAV_PLAYBACK_CACHE_MB=${JSON.stringify(v)}: give the playback cache's size cap in MiB (a number ≥ 0)`)
  return Math.floor(mb * MIB)
}

/**
 * The files to remove so the rest fit in `capBytes`: the least recently used first, never one `kept` (in
 * use, or just made). Fewer than needed when the kept ones alone exceed the cap.
 */
export function evictions(files: readonly CacheFile[], capBytes: number, kept: (name: string) => boolean): CacheFile[] {
  let total = files.reduce((sum, f) => sum + f.bytes, 0)
  const out: CacheFile[] = []
  for (const f of [...files].sort((a, b) => a.usedMs - b.usedMs || a.name.localeCompare(b.name))) {
    if (total <= capBytes) break
    if (kept(f.name)) continue
    out.push(f)
    total -= f.bytes
  }
  return out
}
