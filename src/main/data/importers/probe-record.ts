/** A media file probed into a catalog record: usable (`ok`, with its streams and hash) or quarantined with the reason. */
import { realpathSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ClipRecord } from '../catalog'
import type { inspectClip } from '../inspect'
import { MediaError } from '../media-types'

/** What the importer knows of a clip before opening its file. */
export type ClipBase = Pick<ClipRecord, 'id' | 'labels' | 'split' | 'excluded' | 'group'>

/** The file a path leads to (symlinks resolved), or null when it is gone. */
function realPathOf(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

export async function probedRecord(path: string, base: ClipBase, inspect: typeof inspectClip): Promise<ClipRecord> {
  try {
    const c = await inspect(path)
    const { audio, video } = c.probe
    return {
      ...base,
      path,
      // what was probed: media is later served only from this file (a symlink swapped since is refused)
      realPath: realPathOf(path),
      size: c.size,
      mtimeMs: c.mtimeMs,
      duration: c.probe.duration,
      audio: `${audio!.codec} ${audio!.sampleRate} Hz ${audio!.channels} ch`,
      video: `${video!.codec} ${video!.width}×${video!.height} ${video!.fps.toFixed(2)} fps`,
      status: 'ok',
      reason: null,
      detail: null,
      hash: c.hash
    }
  } catch (err) {
    if (!(err instanceof MediaError)) throw err
    const st = await stat(path).catch(() => null)
    return {
      ...base,
      path,
      size: st?.size ?? 0,
      mtimeMs: st?.mtimeMs ?? 0,
      duration: null,
      audio: null,
      video: null,
      status: 'quarantined',
      reason: err.reason,
      detail: err.message.slice(path.length + 2),
      hash: null
    }
  }
}
