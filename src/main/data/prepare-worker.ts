/**
 * Engine-free worker process for `dataset prepare`: receives one shard's worth of clips, writes the shard
 * atomically, and reports which clips it holds and which failed (with their quarantine reason).
 */
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic'
import { type CacheSettings, encodeShard } from './cache-format'
import { MediaError } from './media-types'
import { prepareClip } from './prepare-clip'

export interface ShardTask {
  dir: string
  file: string
  settings: CacheSettings
  clips: { id: string; path: string }[]
}

export interface ShardResult {
  file: string
  ids: string[]
  failures: { id: string; reason: string; detail: string }[]
}

export async function buildShard(task: ShardTask): Promise<ShardResult> {
  const records: { id: string; payload: Uint8Array }[] = []
  const failures: ShardResult['failures'] = []
  for (const c of task.clips) {
    try {
      records.push({ id: c.id, payload: await prepareClip(c.path, task.settings) })
    } catch (err) {
      if (!(err instanceof MediaError)) throw err
      failures.push({ id: c.id, reason: err.reason, detail: err.message })
    }
  }
  if (records.length) await writeFileAtomic(join(task.dir, task.file), encodeShard(records))
  return { file: task.file, ids: records.map((r) => r.id), failures }
}

if (process.send) {
  // a parent killed with SIGKILL cannot kill us: leave with it instead of writing an orphan shard
  process.on('disconnect', () => process.exit(1))
  process.on('message', (task: ShardTask) => {
    buildShard(task).then(
      (result) => process.send!({ ok: true, result }),
      (err: Error) => process.send!({ ok: false, error: err.message })
    )
  })
}
