/** A workspace dataset, prepared for a model size, as the pretraining loop's ClipSource. */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type ModelConfig, PRESETS } from '../engine/config'
import { PRESET_NAMES, type PresetName } from '../../shared/requests'
import type { ClipSource } from '../engine/train/data-source'
import { datasetDir } from '../workspace'
import { CacheReader, cacheClipSource, cacheDir } from './cache'
import type { CacheIndex, CacheSettings } from './cache-format'
import { Catalog, type Split } from './catalog'
import { type InputNormChoice, resolveInputNorm } from './input-norm'

/** What the cache must hold for this model: fbank of its audio length, frames at its size. */
export function cacheSettingsFor(model: ModelConfig): CacheSettings {
  return { targetLength: model.audioLength, numMelBins: model.numMelBins, frameSize: model.imgSize, frames: 10, norm: model.inputNorm.fbank }
}

/** A preset's model with the input normalisation a run on this dataset uses (see resolveInputNorm). */
export function datasetModel(workspace: string, name: string, model: ModelConfig, choice?: InputNormChoice): ModelConfig {
  const dir = datasetDir(workspace, name)
  if (!existsSync(join(dir, 'catalog.sqlite'))) throw new Error(`no dataset "${name}" in ${workspace}; create or import it first`)
  const catalog = Catalog.open(dir)
  try {
    return { ...model, inputNorm: resolveInputNorm(catalog, name, choice) }
  } finally {
    catalog.close()
  }
}

/** The presets (at their own frame size, with the dataset's default input statistics) whose preprocessing cache the dataset has begun or finished. */
export function preparedPresets(workspace: string, catalog: Catalog, name: string): PresetName[] {
  const inputNorm = resolveInputNorm(catalog, name)
  return PRESET_NAMES.filter((p) => existsSync(join(cacheDir(datasetDir(workspace, name), cacheSettingsFor({ ...PRESETS[p], inputNorm })), 'index.json')))
}

export interface DatasetSource {
  source: ClipSource
  reader: CacheReader
  close(): Promise<void>
}

type SplitClip = { id: string; label: number; labels: number[] }

/**
 * The split's usable clips, once the dataset is known to be prepared for this model: a cache that lacks
 * some of them (a prepare that was stopped or is still running; clips that failed to decode are not
 * counted) is refused unless `allowPartial`, so training never runs silently on part of a dataset.
 * Reads the catalog and the cache's index only, so the server checks a request with it before a job starts.
 */
export async function checkPrepared(workspace: string, name: string, model: ModelConfig, split: Split, preset: string, allowPartial = false): Promise<{ cdir: string; clips: SplitClip[] }> {
  const dir = datasetDir(workspace, name)
  if (!existsSync(join(dir, 'catalog.sqlite'))) throw new Error(`no dataset "${name}" in ${workspace}; create or import it first`)
  const cdir = cacheDir(dir, cacheSettingsFor(model))
  const indexPath = join(cdir, 'index.json')
  if (!existsSync(indexPath)) {
    throw new Error(`dataset "${name}" is not prepared for the ${preset} preset (no ${cdir}); run: equiav dataset prepare --name ${name} --preset ${preset} --workspace ${workspace}`)
  }
  const catalog = Catalog.open(dir)
  const clips = catalog.list({ status: 'ok', split, excluded: false }).map((c) => ({ id: c.id, label: c.labels[0] ?? -1, labels: c.labels }))
  catalog.close()
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex
  const inCache = new Set(index.shards.flatMap((s) => s.ids))
  const failed = new Set(index.failures.map((f) => f.id))
  const cached = clips.filter((c) => inCache.has(c.id)).length
  const missing = clips.filter((c) => !inCache.has(c.id) && !failed.has(c.id)).length
  if (cached === 0) throw new Error(`dataset "${name}" has no prepared ${split} clips in ${cdir}`)
  if (missing > 0 && !allowPartial) {
    throw new Error(
      `dataset "${name}" is only partly prepared for the ${preset} preset: ${cached} of ${cached + missing} usable ${split} clips are cached in ${cdir}; ` +
        `finish it with: equiav dataset prepare --name ${name} --preset ${preset} --workspace ${workspace}, or pass --allow-partial to train on the ${cached} cached`
    )
  }
  return { cdir, clips }
}

/** The split's prepared clips (see checkPrepared). */
export async function openDatasetSource(workspace: string, name: string, model: ModelConfig, split: Split, preset: string, allowPartial = false): Promise<DatasetSource> {
  const { cdir, clips } = await checkPrepared(workspace, name, model, split, preset, allowPartial)
  const reader = await CacheReader.open(cdir)
  const source = cacheClipSource(reader, clips, `dataset ${name} (${split} split, ${cdir})`)
  if (source.size === 0) {
    await reader.close()
    throw new Error(`dataset "${name}" has no prepared ${split} clips in ${cdir}`)
  }
  return { source, reader, close: () => reader.close() }
}
