/** Datasets: catalogs opened by name through src/main/data/datasets.ts; imports run as jobs. */
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import type { ClipRow } from '../../../shared/contract'
import type { DATASETS_METHODS } from '../../../shared/methods'
import { augmentPreview } from '../../data/augment-preview'
import { pruneCaches } from '../../data/cache-prune'
import type { ClipRecord } from '../../data/catalog'
import { ClipFeatureStore } from '../../data/clip-features'
import { preparedPresets } from '../../data/dataset-source'
import { listDatasets } from '../../data/datasets'
import { checkName, datasetDir } from '../../workspace'
import { servedFile } from '../media'
import { toJob } from './jobs'
import type { AreaServices, ServiceContext } from './types'

const REPORT_LIMIT = 1000

export function toClipRow(c: ClipRecord): ClipRow {
  return {
    id: c.id,
    labels: c.labels,
    split: c.split,
    status: c.status,
    reason: c.reason,
    detail: c.detail,
    duration: c.duration,
    audio: c.audio,
    video: c.video,
    excluded: c.excluded,
    group: c.group ?? null
  }
}

/** A path the import reads: absolute, and an existing file or folder (the field named in the message). */
function checkPath(field: string, path: string, kind: 'file' | 'folder'): void {
  if (!isAbsolute(path)) throw new Error(`${field}: ${path}: give the ${kind} as an absolute path`)
  const st = existsSync(path) ? statSync(path) : null
  if (!st || (kind === 'folder' ? !st.isDirectory() : !st.isFile())) throw new Error(`${field}: ${path}: no such ${kind}`)
}

export function datasetsServices({ workspace, jobs, catalogs, playback }: ServiceContext, features = new ClipFeatureStore()): AreaServices<typeof DATASETS_METHODS> {
  return {
    'datasets.list': async () => {
      const out = []
      for (const name of await listDatasets(workspace)) {
        const n = await catalogs.counts(name)
        const { classes, prepared } = await catalogs.use(name, (c) => ({ classes: c.classes().length, prepared: preparedPresets(workspace, c, name) }))
        out.push({ name, total: n.total, ok: n.ok, quarantined: n.quarantined, missing: n.missing, classes, prepared })
      }
      return out
    },
    'datasets.info': async ({ dataset }) => {
      const counts = await catalogs.counts(dataset)
      const quarantined = await catalogs.remember(dataset, 'quarantined', (c) =>
        c.list({ status: 'quarantined', limit: REPORT_LIMIT }).map((q) => ({ id: q.id, reason: q.reason, detail: q.detail }))
      )
      return catalogs.use(dataset, (c) => ({ name: dataset, source: c.meta('source'), classes: c.classes(), counts, quarantined }))
    },
    'datasets.clip': async ({ dataset, clip }) =>
      catalogs.use(dataset, (c) => {
        const record = c.get(clip)
        if (!record) throw new Error(`dataset "${dataset}" has no clip "${clip}"`)
        return toClipRow(record)
      }),
    'datasets.clips': async ({ dataset, offset, limit, filter, sort }) => ({
      total: await catalogs.count(dataset, filter, sort),
      offset,
      rows: (await catalogs.page(dataset, filter, offset, limit, sort)).map(toClipRow)
    }),
    'datasets.position': async ({ dataset, clip, filter, sort }) => ({ index: await catalogs.position(dataset, filter, sort, clip) }),
    'datasets.edit': async ({ dataset, clip, ...change }) => catalogs.use(dataset, (c) => toClipRow(c.edit(clip, change))),
    'datasets.editMany': async ({ dataset, clips, ...change }) => catalogs.use(dataset, (c) => ({ rows: c.editMany(clips, change).map(toClipRow) })),
    'datasets.import': async ({ dataset, ...spec }) => {
      checkName('dataset', dataset)
      const manifest = spec.format !== 'folder'
      checkPath('from', spec.from, manifest ? 'file' : 'folder')
      if (spec.labels !== undefined) checkPath('labels', spec.labels, 'file')
      if (spec.mediaRoot !== undefined) checkPath('mediaRoot', spec.mediaRoot, 'folder')
      const abs = (p: string | undefined): string | undefined => p && resolve(p)
      return toJob(jobs.start({ kind: 'import', args: { ...spec, workspace, dataset, from: resolve(spec.from), labels: abs(spec.labels), mediaRoot: abs(spec.mediaRoot) } }))
    },
    'datasets.prepare': async ({ dataset, preset }) => {
      await catalogs.use(dataset, (c) => c.lastSeq())
      return toJob(jobs.start({ kind: 'prepare', args: { workspace, dataset, preset, statsClips: 400 } }))
    },
    'datasets.augmentPreview': async ({ dataset, clip, seed }) => {
      const record = await catalogs.use(dataset, (c) => c.get(clip))
      if (!record) throw new Error(`dataset "${dataset}" has no clip "${clip}"`)
      if (record.status !== 'ok') throw new Error(`clip "${clip}" is ${record.status === 'missing' ? 'not downloaded' : `quarantined (${record.reason})`}: nothing to augment`)
      return augmentPreview(await features.get(datasetDir(workspace, dataset), record), seed)
    },
    'datasets.pruneCache': async ({ dataset }) => {
      await catalogs.use(dataset, (c) => c.lastSeq()) // no dataset: said before any folder is read
      const folders = await pruneCaches(datasetDir(workspace, dataset), () => catalogs.use(dataset, (c) => c.okPaths()), (path) => playback.transcodes.inUse(path))
      return { folders }
    },
    'datasets.playback': async ({ dataset, clip }) => {
      const record = await catalogs.use(dataset, (c) => c.get(clip))
      if (!record) throw new Error(`dataset "${dataset}" has no clip "${clip}"`)
      return (await playback.of(dataset, await servedFile(record), record.duration)).playback
    }
  }
}
