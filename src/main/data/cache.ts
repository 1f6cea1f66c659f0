/**
 * The preprocessing cache: build it (incrementally, in worker processes, resumable after a kill) and
 * read it back as the engine's ClipSource.
 */
import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type FileHandle, mkdir, open, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClipSource } from '../engine/train/data-source'
import type { RawClip } from '../engine/train/synthetic'
import { writeJsonAtomic } from '../util/atomic'
import { CACHE_FORMAT, type CacheIndex, type CacheSettings, type ShardHeader, cacheKey, recordFbankFrames, sha256 } from './cache-format'
import type { ShardResult, ShardTask } from './prepare-worker'

export const SHARD_CLIPS = 32

export interface PrepareProgress {
  done: number
  total: number
  failed: number
  skipped: number
}

export interface PrepareOptions {
  /** notes for the user: shards reclaimed, a worker that died */
  log?: (line: string) => void
  datasetDir: string
  clips: { id: string; path: string }[]
  settings: CacheSettings
  workers?: number
  onProgress?: (p: PrepareProgress) => void
  signal?: AbortSignal
}

export function cacheDir(datasetDir: string, s: CacheSettings): string {
  return join(datasetDir, 'cache', cacheKey(s))
}

/** Set by the bundled engine host to the bundled prepare worker beside it. */
export const PREPARE_WORKER_ENV = 'EQUIAV_PREPARE_WORKER'

async function readIndex(dir: string, settings: CacheSettings): Promise<CacheIndex> {
  const path = join(dir, 'index.json')
  if (!existsSync(path)) return { format: CACHE_FORMAT, settings, shards: [], failures: [] }
  return JSON.parse(await readFile(path, 'utf8')) as CacheIndex
}

/**
 * The prepare worker's entry: the bundled one when the bundled engine host named it (the app, whose engine
 * processes run on Electron's binary, hence ELECTRON_RUN_AS_NODE), else the TypeScript source through tsx
 * (CLI and serve), resolved here rather than from the caller's working directory.
 */
function workerEntry(): { path: string; execArgv: string[]; env?: NodeJS.ProcessEnv } {
  const bundled = process.env[PREPARE_WORKER_ENV]
  if (bundled) return { path: bundled, execArgv: [], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }
  return { path: fileURLToPath(new URL('./prepare-worker.ts', import.meta.url)), execArgv: ['--import', import.meta.resolve('tsx')] }
}

/** The last lines a worker wrote to stderr, for the error that reports its death. */
function lastLines(text: string, n = 5): string {
  const lines = text.trim().split('\n').filter((l) => l.trim())
  return lines.length ? `; its last output: ${lines.slice(-n).join(' | ')}` : '; it wrote nothing to stderr'
}

function runShard(task: ShardTask, signal?: AbortSignal): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry()
    const worker = fork(entry.path, [], { execArgv: entry.execArgv, env: entry.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let stderr = ''
    let answered = false
    worker.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)))
    const onAbort = (): void => {
      worker.kill('SIGKILL')
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.on('message', (m: { ok: boolean; result?: ShardResult; error?: string }) => {
      answered = true
      signal?.removeEventListener('abort', onAbort)
      worker.kill()
      if (m.ok) resolve(m.result!)
      else reject(new Error(`preparing ${join(task.dir, task.file)} failed: ${m.error}`))
    })
    worker.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort)
      if (answered) return
      // a worker gone without an answer: killed (the OOM killer sends SIGKILL) or crashed
      if (signal?.aborted) reject(new Error('cancelled'))
      else {
        const how = sig ? `was killed by ${sig}${sig === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with code ${code}`
        reject(new Error(`the prepare worker (pid ${worker.pid}) for ${join(task.dir, task.file)} ${how} before finishing its ${task.clips.length} clips${lastLines(stderr)}`))
      }
    })
    // a worker that cannot start rejects here; one killed before it took its task fails the send (EPIPE),
    // and its 'exit' above says how it died
    worker.on('error', (err) => {
      if (worker.pid === undefined) reject(new Error(`the prepare worker for ${join(task.dir, task.file)} could not start: ${err.message}`))
    })
    worker.send(task, () => undefined)
  })
}

/** Shard files no index entry names (written by a process killed before it could index them): removed. */
async function reclaimOrphans(dir: string, index: CacheIndex): Promise<string[]> {
  const indexed = new Set(index.shards.map((s) => s.file))
  const orphans = (await readdir(dir)).filter((f) => f.includes('.tmp-') || (/^shard-\d+\.bin$/.test(f) && !indexed.has(f)))
  for (const f of orphans) await rm(join(dir, f), { force: true })
  return orphans
}

/**
 * Brings the cache up to date with `clips`: only clips in no finished shard (and not already failed) are
 * processed, SHARD_CLIPS per worker task. The index is rewritten atomically after every shard, so a kill
 * loses at most the shards in flight, whose temporary files are removed on the next run.
 */
export async function prepareCache(o: PrepareOptions): Promise<CacheIndex> {
  const dir = cacheDir(o.datasetDir, o.settings)
  await mkdir(dir, { recursive: true })
  const index = await readIndex(dir, o.settings)
  const orphans = await reclaimOrphans(dir, index)
  if (orphans.length) o.log?.(`${dir}: removed ${orphans.length} unindexed file(s) left by an interrupted prepare (${orphans.slice(0, 3).join(', ')}${orphans.length > 3 ? ', …' : ''})`)
  const done = new Set([...index.shards.flatMap((s) => s.ids), ...index.failures.map((f) => f.id)])
  const todo = o.clips.filter((c) => !done.has(c.id))
  const skipped = o.clips.length - todo.length
  let finished = skipped
  let failed = index.failures.length
  o.onProgress?.({ done: finished, total: o.clips.length, failed, skipped })
  const tasks: ShardTask[] = []
  let shardNo = index.shards.length + index.failures.length // any unused number works; keep them increasing
  for (let i = 0; i < todo.length; i += SHARD_CLIPS) {
    while (existsSync(join(dir, `shard-${String(shardNo).padStart(6, '0')}.bin`))) shardNo++
    tasks.push({ dir, file: `shard-${String(shardNo++).padStart(6, '0')}.bin`, settings: o.settings, clips: todo.slice(i, i + SHARD_CLIPS) })
  }
  let next = 0
  // the first failure stops every lane (and kills their workers), so the error comes back at once
  const stop = new AbortController()
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal
  let failure: unknown = null
  const lane = async (): Promise<void> => {
    while (next < tasks.length && !signal.aborted) {
      const result = await runShard(tasks[next++], signal).catch((err: unknown) => {
        if (!signal.aborted) {
          failure = err
          stop.abort()
        }
        return null
      })
      if (!result) return
      if (result.ids.length) index.shards.push({ file: result.file, ids: result.ids })
      index.failures.push(...result.failures)
      await writeJsonAtomic(join(dir, 'index.json'), index)
      finished += result.ids.length + result.failures.length
      failed += result.failures.length
      o.onProgress?.({ done: finished, total: o.clips.length, failed, skipped })
    }
  }
  await writeJsonAtomic(join(dir, 'index.json'), index)
  await Promise.all(Array.from({ length: Math.max(1, o.workers ?? 2) }, lane))
  if (failure) throw failure
  return index
}

/** A cache record (fbank floats [n, F], frame times, then each frame as bytes [3, S, S]) → arrays, frames in [0, 1]. */
export function decodeRecord(buf: Uint8Array, s: CacheSettings): { fbank: Float32Array; frameAt: Float32Array; frames: Float32Array[] } {
  const fbankBytes = recordFbankFrames(s, buf.byteLength) * s.numMelBins * 4
  const fbank = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + fbankBytes))
  const frameAt = new Float32Array(buf.buffer.slice(buf.byteOffset + fbankBytes, buf.byteOffset + fbankBytes + s.frames * 4))
  const start = fbankBytes + s.frames * 4
  const frameLen = 3 * s.frameSize * s.frameSize
  const frames: Float32Array[] = []
  for (let k = 0; k < s.frames; k++) {
    const bytes = buf.subarray(start + k * frameLen, start + (k + 1) * frameLen)
    frames.push(Float32Array.from(bytes, (b) => b / 255))
  }
  return { fbank, frameAt, frames }
}

interface Located {
  shard: string
  offset: number
  bytes: number
  sha256: string
}

/** A finished cache opened for reading: records are read with positioned reads and verified. */
export class CacheReader {
  /** one open per shard, shared by concurrent reads (caching the promise, not the handle, avoids double opens) */
  private readonly handles = new Map<string, Promise<FileHandle>>()

  private constructor(
    readonly dir: string,
    readonly index: CacheIndex,
    private readonly where: Map<string, Located>
  ) {}

  static async open(dir: string): Promise<CacheReader> {
    const indexPath = join(dir, 'index.json')
    if (!existsSync(indexPath)) throw new Error(`${dir}: no preprocessing cache here (index.json missing)`)
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex
    const where = new Map<string, Located>()
    for (const s of index.shards) {
      const fh = await open(join(dir, s.file), 'r')
      try {
        const len = Buffer.alloc(8)
        await fh.read(len, 0, 8, 0)
        const headerLen = Number(len.readBigUInt64LE(0))
        const hb = Buffer.alloc(headerLen)
        await fh.read(hb, 0, headerLen, 8)
        const header = JSON.parse(hb.toString('utf8')) as ShardHeader
        for (const r of header.records) where.set(r.id, { shard: s.file, offset: 8 + headerLen + r.offset, bytes: r.bytes, sha256: r.sha256 })
      } catch (err) {
        throw new Error(`${join(dir, s.file)}: unreadable shard header (${(err as Error).message})`, { cause: err })
      } finally {
        await fh.close()
      }
    }
    return new CacheReader(dir, index, where)
  }

  has(id: string): boolean {
    return this.where.has(id)
  }

  async record(id: string): Promise<Uint8Array> {
    const loc = this.where.get(id)
    if (!loc) throw new Error(`${this.dir}: clip ${id} is not in the cache; run \`equiav dataset prepare\` again`)
    let opening = this.handles.get(loc.shard)
    if (!opening) {
      opening = open(join(this.dir, loc.shard), 'r')
      this.handles.set(loc.shard, opening)
    }
    const fh = await opening
    const buf = new Uint8Array(loc.bytes)
    const { bytesRead } = await fh.read(buf, 0, loc.bytes, loc.offset)
    if (bytesRead !== loc.bytes || sha256(buf) !== loc.sha256) {
      throw new Error(`${join(this.dir, loc.shard)}: record of clip ${id} is corrupt (checksum mismatch); delete the shard and prepare again`)
    }
    return buf
  }

  /** A cached record as the engine's RawClip: the stored fbank, the frame times and the frames as [3, S, S] floats in [0, 1]. */
  async clip(id: string, label: number): Promise<RawClip> {
    return { id, ...decodeRecord(await this.record(id), this.index.settings), label }
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map(async (h) => (await h).close()))
    this.handles.clear()
  }
}

/** The cached clips `ids` (with their primary labels) as a ClipSource for pretraining. */
export function cacheClipSource(reader: CacheReader, clips: { id: string; label: number; labels?: number[] }[], describe: string): ClipSource {
  const usable = clips.filter((c) => reader.has(c.id))
  const clip = async (i: number): Promise<RawClip> => {
    const { id, label, labels } = usable[i]
    const read = await reader.clip(id, label)
    return labels ? { ...read, labels } : read
  }
  return { describe, size: usable.length, clip }
}
