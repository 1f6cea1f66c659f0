/**
 * Import a folder of media: labels from the first sub-folder under the root (files directly in the root
 * get none), every file inspected, unusable ones quarantined with a reason, duplicates (same content)
 * quarantined pointing at the first copy. Resumable: files already in the catalog with the same size and
 * mtime are skipped, and clips are committed in batches. With `groupBy`, each clip's group (the recording
 * it was cut from, groups.ts) is stored and the split keeps every group in one split; without it, names
 * that look like windows of recordings draw a warning.
 */
import { readdir, stat } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import { type Catalog, type ClipRecord, type Split } from '../catalog'
import { inspectClip } from '../inspect'
import { probedRecord } from './probe-record'
import { groupedSplit, stratifiedSplit } from '../splits'
import { groupOf, windowNamesWarning } from '../groups'

/** Names that look like media; a directory with such a name is reported, not walked. */
export const MEDIA_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.flv', '.mpg', '.mpeg', '.ts', '.3gp', '.ogv', '.wmv'])

export interface ImportProgress {
  done: number
  total: number
  skipped: number
}

export interface FolderImportOptions {
  root: string
  catalog: Catalog
  testFraction?: number
  seed?: number
  /** the recording of a file: the first capture group of its name (parseGroupBy) */
  groupBy?: RegExp
  /** files inspected at once (each runs ffprobe + ffmpeg) */
  concurrency?: number
  batchSize?: number
  onProgress?: (p: ImportProgress) => void
  signal?: AbortSignal
  /** injectable for tests */
  inspect?: typeof inspectClip
}

/** Every file under `dir` (hidden ones left out); folders named like media are listed, not walked. */
export async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory() && !MEDIA_EXTENSIONS.has(extname(entry.name).toLowerCase())) await walk(path, out)
    else out.push(path)
  }
}

export async function importFolder(o: FolderImportOptions): Promise<{ inspected: number; skipped: number; warnings: string[] }> {
  const inspect = o.inspect ?? inspectClip
  const files: string[] = []
  await walk(o.root, files)
  files.sort()
  const labelOf = (path: string): string | null => {
    const parts = relative(o.root, path).split(sep)
    return parts.length > 1 ? parts[0] : null
  }
  const classNames = [...new Set(files.map(labelOf).filter((l): l is string => l !== null))].sort()
  // new sub-folders are appended: the classes already stored keep their indices, so no clip is relabelled
  o.catalog.addClasses(classNames)
  const classIndex = new Map(o.catalog.classes().map((n, i) => [n, i]))

  const seen = o.catalog.seenFiles()
  const todo: string[] = []
  for (const f of files) {
    const prev = seen.get(f)
    const st = await stat(f).catch(() => null)
    if (prev && st && prev.size === st.size && prev.mtimeMs === st.mtimeMs) continue
    todo.push(f)
  }
  const skipped = files.length - todo.length
  o.onProgress?.({ done: skipped, total: files.length, skipped })

  let next = 0
  let done = skipped
  let pending: ClipRecord[] = []
  const flush = (): void => {
    if (pending.length) o.catalog.upsert(pending)
    pending = []
  }
  const worker = async (): Promise<void> => {
    while (next < todo.length && !o.signal?.aborted) {
      const path = todo[next++]
      const label = labelOf(path)
      const group = o.groupBy ? groupOf(path, o.groupBy) : null
      const base = { id: relative(o.root, path).split(sep).join('/'), labels: label === null ? [] : [classIndex.get(label)!], split: null, excluded: false, group }
      const record = await probedRecord(path, base, inspect)
      pending.push(record)
      if (pending.length >= (o.batchSize ?? 32)) flush()
      o.onProgress?.({ done: ++done, total: files.length, skipped })
    }
  }
  await Promise.all(Array.from({ length: o.concurrency ?? 3 }, worker))
  flush()
  const warnings = o.groupBy ? [] : [windowNamesWarning(files)].filter((w): w is string => w !== null)
  if (o.signal?.aborted) return { inspected: done - skipped, skipped, warnings }

  // duplicates and splits are decided over the whole catalog, so a resumed import ends the same way
  const ok = o.catalog.list({ status: 'ok' })
  const firstOfHash = new Map<string, string>()
  const updates: ClipRecord[] = []
  for (const c of ok) {
    const first = c.hash ? firstOfHash.get(c.hash) : undefined
    if (first) updates.push({ ...c, status: 'quarantined', reason: 'duplicate', detail: `same content as ${first}`, split: null })
    else if (c.hash) firstOfHash.set(c.hash, c.id)
  }
  o.catalog.upsert(updates)
  // only clips without a split get one: a re-import never undoes the user's split assignments;
  // a new clip of a group that already has a split joins it
  const usable = o.catalog.list({ status: 'ok' })
  const splitOfGroup = new Map(usable.filter((c) => c.group && c.split).map((c) => [c.group!, c.split!]))
  const joining = usable.filter((c) => c.split === null && c.group && splitOfGroup.has(c.group)).map((c) => ({ ...c, split: splitOfGroup.get(c.group!)! }))
  const kept = usable.filter((c) => c.split === null && !(c.group && splitOfGroup.has(c.group)))
  const labels = kept.map((c) => c.labels[0] ?? -1)
  const testFraction = o.testFraction ?? 0.2
  const splits: Split[] = o.groupBy ? groupedSplit(kept.map((c) => c.group ?? null), labels, testFraction, o.seed ?? 0) : stratifiedSplit(labels, testFraction, o.seed ?? 0)
  o.catalog.upsert([...joining, ...kept.map((c, i) => ({ ...c, split: splits[i] }))])
  return { inspected: done - skipped, skipped, warnings }
}
