/**
 * A dataset made ready for training with a preset: its own input statistics when asked and not yet stored,
 * then every usable clip decoded into the preprocessing cache. Shared by `equiav dataset prepare` and the
 * workbench's prepare job.
 */
import { PRESETS, type PresetName } from '../engine/config'
import type { JobContext } from '../jobs/context'
import { checkName, datasetDir } from '../workspace'
import { cacheDir, prepareCache } from './cache'
import type { CacheSettings } from './cache-format'
import { Catalog } from './catalog'
import { cacheSettingsFor } from './dataset-source'
import { computeDatasetInputNorm, type InputNormChoice, resolveInputNorm, storedInputNorm } from './input-norm'

export interface PrepareRequest {
  workspace: string
  dataset: string
  preset: PresetName
  imgSize?: number
  inputNorm?: InputNormChoice
  /** compute the dataset's statistics first when none are stored (from this many training clips) */
  statsClips?: number
  workers?: number
}

export interface PrepareSummary {
  cache: string
  prepared: number
  skipped: number
  failures: { id: string; reason: string; detail: string }[]
  seconds: number
  clipsPerSecond: number
  cancelled: boolean
}

export async function prepareDataset(r: PrepareRequest, ctx: JobContext): Promise<PrepareSummary> {
  const dir = datasetDir(r.workspace, checkName('dataset', r.dataset))
  const base = { ...PRESETS[r.preset], ...(r.imgSize ? { imgSize: r.imgSize } : {}) }
  const catalog = Catalog.open(dir)
  let clips: { id: string; path: string }[]
  let settings: CacheSettings
  try {
    if (r.statsClips && r.inputNorm !== 'official' && !storedInputNorm(catalog)) {
      ctx.log(`${r.dataset}: computing its own input statistics from ${r.statsClips} training clips`)
      const norm = await computeDatasetInputNorm(catalog, r.dataset, {
        targetLength: base.audioLength,
        maxClips: r.statsClips,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress({ done, total, unit: 'clips (statistics)' })
      })
      ctx.log(`${norm.source}: fbank ${norm.fbank.mean} / ${norm.fbank.std}, frame mean [${norm.frame.mean.join(', ')}]`)
    }
    clips = catalog.list({ status: 'ok', excluded: false }).map((c) => ({ id: c.id, path: c.path }))
    settings = cacheSettingsFor({ ...base, inputNorm: resolveInputNorm(catalog, r.dataset, r.inputNorm) })
  } finally {
    catalog.close()
  }
  if (clips.length === 0) throw new Error(`dataset "${r.dataset}" has no usable clips (see equiav dataset info --name ${r.dataset})`)
  const started = Date.now()
  let skipped = 0
  const index = await prepareCache({
    datasetDir: dir,
    clips,
    settings,
    workers: r.workers ?? 2,
    signal: ctx.signal,
    log: (line) => ctx.log(line),
    onProgress: (p) => {
      skipped = p.skipped
      ctx.progress({ done: p.done, total: p.total, unit: 'clips', fields: p.failed ? { failed: String(p.failed) } : {} })
    }
  })
  const prepared = index.shards.reduce((n, s) => n + s.ids.length, 0)
  const seconds = (Date.now() - started) / 1000
  return { cache: cacheDir(dir, settings), prepared, skipped, failures: index.failures, seconds, clipsPerSecond: (prepared - skipped) / seconds, cancelled: ctx.signal.aborted }
}
