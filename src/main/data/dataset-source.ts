/** A workspace dataset, prepared for a model size, as the pretraining loop's ClipSource. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { ModelConfig } from '../engine/config'
import type { ClipSource } from '../engine/train/data-source'
import { datasetDir } from '../workspace'
import { CacheReader, cacheClipSource, cacheDir } from './cache'
import type { CacheSettings } from './cache-format'
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

export interface DatasetSource {
  source: ClipSource
  reader: CacheReader
  close(): Promise<void>
}

/**
 * The split's prepared clips. A cache that lacks some of the split's usable clips (a prepare that was
 * stopped or is still running; clips that failed to decode are not counted) is refused unless
 * `allowPartial`, so training never runs silently on part of a dataset.
 */
export async function openDatasetSource(workspace: string, name: string, model: ModelConfig, split: Split, preset: string, allowPartial = false): Promise<DatasetSource> {
  const dir = datasetDir(workspace, name)
  if (!existsSync(join(dir, 'catalog.sqlite'))) throw new Error(`no dataset "${name}" in ${workspace}; create or import it first`)
  const cdir = cacheDir(dir, cacheSettingsFor(model))
  if (!existsSync(join(cdir, 'index.json'))) {
    throw new Error(`dataset "${name}" is not prepared for the ${preset} preset (no ${cdir}); run: equiav dataset prepare --name ${name} --preset ${preset} --workspace ${workspace}`)
  }
  const catalog = Catalog.open(dir)
  const clips = catalog.list({ status: 'ok', split, excluded: false }).map((c) => ({ id: c.id, label: c.labels[0] ?? -1, labels: c.labels }))
  catalog.close()
  const reader = await CacheReader.open(cdir)
  const source = cacheClipSource(reader, clips, `dataset ${name} (${split} split, ${cdir})`)
  const failed = new Set(reader.index.failures.map((f) => f.id))
  const missing = clips.filter((c) => !reader.has(c.id) && !failed.has(c.id)).length
  if (source.size === 0 || (missing > 0 && !allowPartial)) {
    await reader.close()
    if (source.size === 0) throw new Error(`dataset "${name}" has no prepared ${split} clips in ${cdir}`)
    throw new Error(
      `dataset "${name}" is only partly prepared for the ${preset} preset: ${source.size} of ${source.size + missing} usable ${split} clips are cached in ${cdir}; ` +
        `finish it with: equiav dataset prepare --name ${name} --preset ${preset} --workspace ${workspace}, or pass --allow-partial to train on the ${source.size} cached`
    )
  }
  return { source, reader, close: () => reader.close() }
}
