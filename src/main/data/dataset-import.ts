/**
 * Importing into a dataset's catalog, as `equiav dataset import` and the workbench's `import` job both do
 * it: a folder of media, or an AudioSet CSV / VGGSound CSV / CAV-MAE JSON manifest (with its
 * class_labels_indices.csv, media found under a media root, probed or not). One code path for both.
 * Imports into one dataset are serialised (import-lock.ts), and a failed import into a new dataset leaves
 * no empty dataset behind.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { IMPORT_FORMATS } from '../../shared/contract/datasets'
import type { Reporter } from '../engine/report'
import { checkName, datasetDir } from '../workspace'
import { Catalog, type Split } from './catalog'
import { CATALOG_FILE } from './datasets'
import { parseGroupBy } from './groups'
import { acquireImportLock } from './import-lock'
import { audioSetSource } from './importers/audioset'
import { cavMaeSource } from './importers/cavmae-json'
import { importFolder } from './importers/folder'
import { type ManifestSource, importManifest, splitFromFileName } from './importers/manifest-import'
import { readClassLabels } from './importers/manifest-reader'
import { vggSoundSource } from './importers/vggsound'

export { IMPORT_FORMATS }
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

export interface ImportSpec {
  /** default folder */
  format?: ImportFormat
  /** the folder, or the manifest file */
  from: string
  /** class_labels_indices.csv (index,mid,display_name): needed by AudioSet CSVs and CAV-MAE datafiles */
  labels?: string
  /** the split of an AudioSet CSV or datafile (default: test when its name holds "eval" or "test", else train) */
  split?: Split
  /** downloaded media of a manifest, found by file name */
  mediaRoot?: string
  /** open found media to check it (default true) */
  probe?: boolean
  /** folder: share of each class put in the test split, and the split's seed */
  testFraction?: number
  seed?: number
  /** folder: the recording of a file, as the first capture group of a regular expression on its name */
  groupBy?: string
}

export interface ImportOutcome {
  /** a manifest's rows: in the file, newly added, already present, with media found */
  manifest?: { rows: number; added: number; skipped: number; found: number }
  /** for the end report, e.g. names that look like windows of recordings while no grouping is set */
  warnings: string[]
  stopped: boolean
}

/** The manifest source a spec names, with its class list and split. */
async function manifestSource(spec: ImportSpec & { format: Exclude<ImportFormat, 'folder'> }): Promise<ManifestSource> {
  const file = resolve(spec.from)
  if (spec.format === 'vggsound-csv') return vggSoundSource(file)
  if (!spec.labels) throw new Error(`${file}: a ${spec.format === 'audioset-csv' ? 'AudioSet CSV' : 'CAV-MAE datafile'} needs its class_labels_indices.csv (index,mid,display_name)`)
  const split = spec.split ?? splitFromFileName(file)
  const classes = await readClassLabels(resolve(spec.labels))
  return spec.format === 'audioset-csv' ? audioSetSource(file, classes, split) : cavMaeSource(file, classes, split)
}

/** Imports what the spec names into the catalog, reporting files or manifest rows as progress. */
export async function importIntoCatalog(spec: ImportSpec, catalog: Catalog, ctx: Reporter): Promise<ImportOutcome> {
  const format = spec.format ?? 'folder'
  if (format === 'folder') {
    const root = resolve(spec.from)
    const groupBy = spec.groupBy === undefined ? undefined : parseGroupBy(spec.groupBy)
    catalog.setMeta('source', `folder ${root}`)
    const { warnings } = await importFolder({
      root,
      catalog,
      testFraction: spec.testFraction,
      seed: spec.seed,
      groupBy,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'files' })
    })
    return { warnings, stopped: ctx.signal.aborted }
  }
  if (spec.groupBy !== undefined) throw new Error(`${resolve(spec.from)}: --group-by applies to folder imports; a manifest's rows keep the split the manifest gives them`)
  const source = await manifestSource({ ...spec, format })
  ctx.log(`checking ${source.file}…`)
  const r = await importManifest({
    source,
    catalog,
    mediaRoot: spec.mediaRoot && resolve(spec.mediaRoot),
    probe: spec.probe ?? true,
    signal: ctx.signal,
    onProgress: (p) => {
      if (p.phase === 'import') ctx.progress({ done: p.done, total: p.total, unit: 'rows' })
    }
  })
  return { manifest: { rows: r.rows, added: r.added, skipped: r.skipped, found: r.found }, warnings: [], stopped: r.stopped || ctx.signal.aborted }
}

/**
 * Imports into a dataset of the workspace, creating it if needed, while holding its import lock; `report`
 * reads the catalog before it is closed. When the import fails and the dataset was new and still holds no
 * clip, the dataset is removed (a malformed manifest leaves nothing in the list).
 */
export async function importDataset<T>(
  workspace: string,
  name: string,
  spec: ImportSpec,
  ctx: Reporter,
  report: (catalog: Catalog, outcome: ImportOutcome) => T
): Promise<T> {
  const dir = datasetDir(workspace, checkName('dataset', name))
  const dirExisted = existsSync(dir)
  mkdirSync(dir, { recursive: true })
  const release = await acquireImportLock(dir, ctx.log, ctx.signal)
  const isNew = !existsSync(join(dir, CATALOG_FILE))
  let catalog: Catalog | null = null
  try {
    catalog = Catalog.open(dir)
    return report(catalog, await importIntoCatalog(spec, catalog, ctx))
  } catch (err) {
    if (isNew && catalog?.lastSeq() === 0) {
      catalog.close()
      catalog = null
      if (dirExisted) for (const f of [CATALOG_FILE, `${CATALOG_FILE}-journal`]) rmSync(join(dir, f), { force: true })
      else rmSync(dir, { recursive: true, force: true })
    }
    throw err
  } finally {
    catalog?.close()
    release()
  }
}

/** "eval.csv: 3 rows, 3 added, 0 already present, media found for 2". */
export function describeManifest(file: string, m: NonNullable<ImportOutcome['manifest']>): string {
  return `${file}: ${m.rows} rows, ${m.added} added, ${m.skipped} already present, media found for ${m.found}`
}

/** "3 clips: 2 ok (test 2), 0 quarantined, 1 missing (not downloaded)": the import's end report. */
export function describeCounts(c: Catalog): string {
  const n = c.counts()
  const reasons = Object.entries(n.byReason).map(([r, k]) => `${r} ${k}`)
  const splits = Object.entries(n.bySplit).map(([s, k]) => `${s} ${k}`)
  return `${n.total} clips: ${n.ok} ok (${splits.join(', ') || 'no split'}), ${n.quarantined} quarantined${reasons.length ? ` (${reasons.join(', ')})` : ''}${n.missing ? `, ${n.missing} missing (not downloaded)` : ''}`
}
