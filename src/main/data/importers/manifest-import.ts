/**
 * Importing a manifest (AudioSet CSV, VGGSound CSV, CAV-MAE JSON) into a catalog. Each format only parses
 * its rows into ManifestRow; this module does the rest, the same way for all of them:
 *
 * 1. check: the whole manifest is read once and every row validated (columns, numbers, class mids)
 *    before anything is written, so a malformed manifest fails with `file:line: reason` and leaves the
 *    catalog as it was;
 * 2. import: rows are read again and inserted in batches, one transaction each, through one prepared
 *    statement. Rows already in the catalog are skipped (and never probed again), so a killed import
 *    resumes where it stopped.
 *
 * Media for a row is looked for under `mediaRoot` by file name (e.g. `<YTID>_<start>.mp4`); a row whose
 * file is found is probed like a folder import (ok, or quarantined with a reason) unless `probe` is false,
 * and a row without one is catalogued as `missing` (not downloaded) with what was looked for.
 */
import { stat } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import type { Catalog, ClipRecord, Split } from '../catalog'
import { inspectClip } from '../inspect'
import { type ClipBase, probedRecord } from './probe-record'
import { limiter } from '../../util/limiter'
import { MEDIA_EXTENSIONS, walk } from './folder'
import { type ClassList, ManifestError } from './manifest-reader'

export interface ManifestRow {
  /** "file:line" or "file: data[i]", for errors */
  where: string
  id: string
  /** class keys: mids when the source has a class list, else the label names themselves */
  labels: string[]
  split: Split | null
  /** media file names without extension to look for under the media root, most likely first */
  stems: string[]
  /** the media path the manifest itself names (CAV-MAE's wav), kept as the path of a missing clip */
  path?: string
}

export interface ManifestSource {
  file: string
  /** e.g. "audioset", stored as the dataset's source */
  format: string
  /** the class list that rows refer to by mid; null: the classes are the distinct label names, sorted */
  classes: ClassList | null
  /** a fresh pass over the rows each call */
  rows(): AsyncIterable<ManifestRow>
}

export interface ManifestImportProgress {
  phase: 'check' | 'import'
  done: number
  /** rows in the manifest (known once the check is done) */
  total: number
}

export interface ManifestImportOptions {
  source: ManifestSource
  catalog: Catalog
  /** folder holding downloaded media, searched recursively by file name */
  mediaRoot?: string
  /** probe media that is found (default true); false catalogues found files as ok without opening them */
  probe?: boolean
  /** files probed at once (default 3) */
  concurrency?: number
  /** rows per transaction (default 10,000; batches holding probed files commit sooner) */
  batchSize?: number
  onProgress?: (p: ManifestImportProgress) => void
  signal?: AbortSignal
  /** injectable for tests */
  inspect?: typeof inspectClip
}

export interface ManifestImportResult {
  rows: number
  /** rows newly catalogued by this run */
  added: number
  /** rows already in the catalog (a resumed import) or repeated in the manifest */
  skipped: number
  /** rows whose media file was found under the media root */
  found: number
  stopped: boolean
}

/** The split a manifest file holds when none is given: AudioSet's eval_segments.csv and *_eval/test datafiles are test. */
export function splitFromFileName(file: string): Split {
  return /eval|test/i.test(basename(file)) ? 'test' : 'train'
}

/**
 * Stem (file name without extension) → path of every media file under `root`; the first in path order
 * wins. A stem ending in a start time (`<id>_30`, `<id>_000030`, `<id>_30.000`) is also found by `<id>`
 * alone, after exact names: CAV-MAE datafiles name AudioSet clips by YTID, downloads by YTID and start.
 */
async function indexMedia(root: string): Promise<Map<string, string>> {
  const files: string[] = []
  await walk(root, files)
  files.sort()
  const out = new Map<string, string>()
  const stems = files.filter((f) => MEDIA_EXTENSIONS.has(extname(f).toLowerCase())).map((f) => [basename(f, extname(f)), f])
  for (const [stem, f] of stems) if (!out.has(stem)) out.set(stem, f)
  for (const [stem, f] of stems) {
    const id = stem.replace(/_\d+(\.\d+)?$/, '')
    if (!out.has(id)) out.set(id, f)
  }
  return out
}

/** Pass 1: validates every row; returns the class list and the row count. Writes nothing. */
async function check(o: ManifestImportOptions): Promise<{ classes: ClassList; rows: number }> {
  const byMid = o.source.classes ? new Map(o.source.classes.mids.map((m, i) => [m, i])) : null
  const names = new Set<string>()
  let rows = 0
  for await (const row of o.source.rows()) {
    if (row.id === '') throw new ManifestError(row.where, 'empty clip id')
    for (const key of row.labels) {
      if (byMid && !byMid.has(key)) throw new ManifestError(row.where, `unknown class mid "${key}" (not in the class list)`)
      if (!byMid) names.add(key)
    }
    if (++rows % 100_000 === 0) o.onProgress?.({ phase: 'check', done: rows, total: 0 })
    if (o.signal?.aborted) break
  }
  if (rows === 0) throw new ManifestError(o.source.file, 'no rows')
  const classes = o.source.classes ?? { names: [...names].sort(), mids: [...names].sort().map(() => null) }
  return { classes, rows }
}

/** The catalog's classes must be the manifest's, or the catalog must be new: indices would mean other classes. */
function useClasses(catalog: Catalog, classes: ClassList, file: string): void {
  const existing = catalog.classes()
  const same = existing.length === classes.names.length && existing.every((n, i) => n === classes.names[i])
  if (same) return
  if (existing.length > 0 && catalog.counts().total > 0) {
    throw new Error(`${file}: the dataset already holds clips with other classes (${existing.length} classes); import into a new dataset`)
  }
  catalog.setClasses(classes.names, classes.mids)
}

function missingRecord(row: ManifestRow, labels: number[], mediaRoot: string | undefined): ClipRecord {
  const looked = row.stems.map((s) => `${s}.*`).join(' or ')
  return {
    id: row.id,
    path: row.path ?? (mediaRoot ? join(mediaRoot, `${row.stems[0]}.mp4`) : ''),
    size: 0,
    mtimeMs: 0,
    duration: null,
    audio: null,
    video: null,
    labels,
    split: row.split,
    status: 'missing',
    reason: null,
    detail: mediaRoot ? `not downloaded: no ${looked} under ${mediaRoot}` : 'not downloaded: no --media-root given',
    hash: null,
    excluded: false
  }
}

async function foundRecord(path: string, base: ClipBase, probe: boolean, inspect: typeof inspectClip): Promise<ClipRecord> {
  const empty = { duration: null, audio: null, video: null, hash: null }
  if (!probe) {
    const st = await stat(path)
    return { ...base, ...empty, path, size: st.size, mtimeMs: st.mtimeMs, status: 'ok', reason: null, detail: 'not probed (--no-probe)' }
  }
  return probedRecord(path, base, inspect)
}

export async function importManifest(o: ManifestImportOptions): Promise<ManifestImportResult> {
  const { catalog, source } = o
  const { classes, rows } = await check(o)
  const result: ManifestImportResult = { rows, added: 0, skipped: 0, found: 0, stopped: Boolean(o.signal?.aborted) }
  if (result.stopped) return result
  useClasses(catalog, classes, source.file)
  catalog.setMeta('source', `${source.format} ${source.file}`)
  const index = new Map((classes.mids.some((m) => m !== null) ? classes.mids : classes.names).map((k, i) => [k as string, i]))
  const media = o.mediaRoot ? await indexMedia(o.mediaRoot) : new Map<string, string>()
  const present = catalog.ids()
  const probe = o.probe ?? true
  const run = limiter(o.concurrency ?? 3)
  const batchSize = o.batchSize ?? 10_000
  // probed files are slow: commit them in small batches so a killed import loses little
  const probedPerBatch = 4 * (o.concurrency ?? 3)

  let batch: Promise<ClipRecord>[] = []
  let probedInBatch = 0
  let done = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const records = await Promise.all(batch)
    batch = []
    probedInBatch = 0
    const added = catalog.insertNew(records)
    result.added += added
    result.skipped += records.length - added
  }
  for await (const row of source.rows()) {
    if (o.signal?.aborted) {
      result.stopped = true
      break
    }
    if (++done % 10_000 === 0) o.onProgress?.({ phase: 'import', done, total: rows })
    if (present.has(row.id)) {
      result.skipped++
      continue
    }
    const labels = row.labels.map((k) => index.get(k) as number)
    const path = row.stems.map((s) => media.get(s)).find((p) => p !== undefined)
    if (path === undefined) batch.push(Promise.resolve(missingRecord(row, labels, o.mediaRoot)))
    else {
      result.found++
      // a row repeated in the manifest must not be probed twice
      present.add(row.id)
      probedInBatch++
      batch.push(run(() => foundRecord(path, { id: row.id, labels, split: row.split, excluded: false }, probe, o.inspect ?? inspectClip)))
    }
    if (batch.length >= batchSize || (probe && probedInBatch >= probedPerBatch)) await flush()
  }
  await flush()
  o.onProgress?.({ phase: 'import', done, total: rows })
  return result
}
