/**
 * A run's checkpoints: `<runDir>/checkpoints/step-<N>/` holding `weights.safetensors`,
 * `optimizer.safetensors` and `state.json`. A checkpoint is written whole into `step-<N>.tmp-<pid>` and
 * renamed into place only once every file is on disk, so a `step-<N>` directory is always complete; a crash
 * leaves only a temp directory, which listing ignores and the next save or prune removes. `state.json`
 * records each file's size and SHA-256, checked on load.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { syncDir, writeFileDurable } from '../util/atomic'
import { processAlive } from '../util/pid-lock'
import { byteLength, formatBytes } from '../util/storage-error'
import { parseSafetensors, serializeSafetensors } from '../engine/checkpoint/safetensors'
import type { CheckpointContents, TensorDict } from '../engine/checkpoint/tensors'

export type { CheckpointContents }

const WEIGHTS = 'weights.safetensors'
const OPTIMIZER = 'optimizer.safetensors'
const STATE = 'state.json'
const FORMAT = 1
const COMPLETE = /^step-(\d+)$/
/** temp (being written), old (being replaced) and del (being pruned) directories, tagged with the writer's pid */
const INCOMPLETE = /^step-\d+\.(?:tmp|old|del)-(\d+)$/

export interface FileRecord {
  bytes: number
  sha256: string
}

/** The contents of `state.json`. */
export interface CheckpointManifest {
  format: typeof FORMAT
  step: number
  savedAt: string
  files: Record<string, FileRecord>
  state: Record<string, unknown>
}

export interface CheckpointInfo {
  step: number
  dir: string
}

export interface LoadedCheckpoint extends CheckpointInfo, CheckpointContents {
  savedAt: string
}

/** Directories this process is writing right now, which cleaning must leave alone. */
const inProgress = new Set<string>()

function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints')
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function dirNames(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)
}

/** Remove temp directories left by crashed or finished writers (not those of a live process still writing). */
export async function cleanIncompleteCheckpoints(runDir: string): Promise<string[]> {
  const root = checkpointsDir(runDir)
  const removed: string[] = []
  for (const name of await dirNames(root)) {
    const match = INCOMPLETE.exec(name)
    if (!match) continue
    const path = join(root, name)
    const pid = Number(match[1])
    if (inProgress.has(path) || (pid !== process.pid && processAlive(pid))) continue
    await rm(path, { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}

/** Complete checkpoints, oldest step first. */
export async function listCheckpoints(runDir: string): Promise<CheckpointInfo[]> {
  const root = checkpointsDir(runDir)
  const found: CheckpointInfo[] = []
  for (const name of await dirNames(root)) {
    const match = COMPLETE.exec(name)
    const dir = join(root, name)
    if (match && existsSync(join(dir, STATE))) found.push({ step: Number(match[1]), dir })
  }
  return found.sort((a, b) => a.step - b.step)
}

/** When a complete checkpoint was saved (its state.json's `savedAt`), or null when that cannot be read. */
export async function checkpointSavedAt(dir: string): Promise<string | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as { savedAt?: unknown }
    return typeof m.savedAt === 'string' ? m.savedAt : null
  } catch {
    return null
  }
}

/** The files of a checkpoint, serialised: state.json last. */
function checkpointFiles(step: number, contents: CheckpointContents): [string, Uint8Array | string][] {
  const files: Record<string, FileRecord> = {}
  const out: [string, Uint8Array | string][] = []
  for (const [name, tensors] of [[WEIGHTS, contents.weights], [OPTIMIZER, contents.optimizer]] as const) {
    const bytes = serializeSafetensors(tensors)
    files[name] = { bytes: bytes.byteLength, sha256: sha256(bytes) }
    out.push([name, bytes])
  }
  const manifest: CheckpointManifest = { format: FORMAT, step, savedAt: new Date().toISOString(), files, state: contents.state }
  out.push([STATE, `${JSON.stringify(manifest, null, 2)}\n`])
  return out
}

/** Refuses, before anything is written, a checkpoint the file system has no room for. */
async function checkRoom(runDir: string, step: number, bytes: number, keep: number): Promise<void> {
  const root = checkpointsDir(runDir)
  const fs = await statfs(root)
  const free = fs.bavail * fs.bsize
  if (bytes <= free) return
  const newest = (await listCheckpoints(runDir)).pop()
  throw Object.assign(
    new Error(
      `${root}: the checkpoint of step ${step} needs ${formatBytes(bytes)} but only ${formatBytes(free)} are free; nothing was written` +
        (newest ? ` and step-${newest.step} is still the newest checkpoint` : '') +
        (keep > 0 ? ` (the previous ${keep === 1 ? 'checkpoint is' : `${keep} checkpoints are`} removed only after the new one is written and verified, so the disk must hold one more)` : '')
    ),
    { code: 'ENOSPC' }
  )
}

/** Saves step `step` atomically; with `keep` > 0, then removes all but the newest `keep` checkpoints. */
export async function saveCheckpoint(runDir: string, step: number, contents: CheckpointContents, keep = 0): Promise<CheckpointInfo> {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}`)
  const root = checkpointsDir(runDir)
  await mkdir(root, { recursive: true })
  await cleanIncompleteCheckpoints(runDir)
  const dir = join(root, `step-${step}`)
  const temp = `${dir}.tmp-${process.pid}`
  const old = `${dir}.old-${process.pid}`
  const files = checkpointFiles(step, contents)
  await checkRoom(runDir, step, files.reduce((n, [, data]) => n + byteLength(data), 0), keep)
  inProgress.add(temp).add(old)
  try {
    await mkdir(temp)
    for (const [name, data] of files) await writeFileDurable(join(temp, name), data, join(dir, name))
    await syncDir(temp)
    // rename cannot replace a non-empty directory, so an existing step-N is moved aside first
    if (existsSync(dir)) await rename(dir, old)
    await rename(temp, dir)
    await syncDir(root)
    await rm(old, { recursive: true, force: true })
  } catch (err) {
    await rm(temp, { recursive: true, force: true })
    throw err
  } finally {
    inProgress.delete(temp)
    inProgress.delete(old)
  }
  if (keep > 0) {
    await loadCheckpoint(dir) // read back and checked against its SHA-256 before anything older is removed
    await pruneCheckpoints(runDir, keep)
  }
  return { step, dir }
}

function parseManifest(text: string, path: string): CheckpointManifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  const m = raw as Partial<CheckpointManifest> | null
  const fileOk = (f: FileRecord | undefined): boolean => typeof f?.bytes === 'number' && typeof f.sha256 === 'string'
  if (
    m?.format !== FORMAT ||
    typeof m.step !== 'number' ||
    typeof m.savedAt !== 'string' ||
    typeof m.state !== 'object' ||
    !fileOk(m.files?.[WEIGHTS]) ||
    !fileOk(m.files?.[OPTIMIZER])
  ) {
    throw new Error(`${path}: not a format-${FORMAT} checkpoint manifest`)
  }
  return m as CheckpointManifest
}

async function readVerified(path: string, record: FileRecord): Promise<TensorDict> {
  if (!existsSync(path)) throw new Error(`${path}: checkpoint file is missing`)
  const bytes = new Uint8Array(await readFile(path))
  if (bytes.byteLength !== record.bytes) {
    throw new Error(`${path}: ${bytes.byteLength} bytes, but state.json records ${record.bytes} (truncated or corrupt)`)
  }
  if (sha256(bytes) !== record.sha256) throw new Error(`${path}: SHA-256 does not match state.json (corrupt)`)
  return parseSafetensors(bytes, path)
}

/** Load and verify one checkpoint directory; any corrupt or missing file is named in the error. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const statePath = join(dir, STATE)
  const manifest = parseManifest(await readFile(statePath, 'utf8'), statePath)
  return {
    step: manifest.step,
    dir,
    savedAt: manifest.savedAt,
    state: manifest.state,
    weights: await readVerified(join(dir, WEIGHTS), manifest.files[WEIGHTS]),
    optimizer: await readVerified(join(dir, OPTIMIZER), manifest.files[OPTIMIZER])
  }
}

export interface SkippedCheckpoint {
  dir: string
  reason: string
}

/**
 * The newest intact checkpoint (by step number): verified, and accepted by `reject` when given (which
 * returns a reason to pass it over), or null when the run has none. Newer ones that fail are listed in
 * `skipped` with the reason; when every one fails, the error names each.
 */
export async function loadLatestCheckpoint(
  runDir: string,
  reject: (ckpt: LoadedCheckpoint) => string | null = () => null
): Promise<(LoadedCheckpoint & { skipped: SkippedCheckpoint[] }) | null> {
  const all = await listCheckpoints(runDir)
  const skipped: SkippedCheckpoint[] = []
  for (const { dir } of all.reverse()) {
    try {
      const ckpt = await loadCheckpoint(dir)
      const reason = reject(ckpt)
      if (!reason) return { ...ckpt, skipped }
      skipped.push({ dir, reason })
    } catch (err) {
      skipped.push({ dir, reason: (err as Error).message })
    }
  }
  if (skipped.length) throw new Error(`${runDir}: no intact checkpoint: ${skipped.map((s) => s.reason).join('; ')}`)
  return null
}

/** Keep the newest `keep` checkpoints; returns the steps removed. */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<number[]> {
  if (!Number.isSafeInteger(keep) || keep < 0) throw new Error(`keep must be a non-negative integer, got ${keep}`)
  const all = await listCheckpoints(runDir)
  const victims = all.slice(0, Math.max(0, all.length - keep))
  for (const { dir } of victims) {
    // renamed first, so a crash mid-delete leaves a temp name instead of a half-deleted step-N
    const doomed = `${dir}.del-${process.pid}`
    await rename(dir, doomed)
    await rm(doomed, { recursive: true, force: true })
  }
  await cleanIncompleteCheckpoints(runDir)
  return victims.map((v) => v.step)
}
