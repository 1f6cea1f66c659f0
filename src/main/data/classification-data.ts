/** The data a fine-tuning run trains and is evaluated on: a prepared workspace dataset, or the synthetic task. */
import type { ModelConfig } from '../engine/config'
import type { ClipSource } from '../engine/train/data-source'
import { SYNTHETIC_CLASS_NAMES, syntheticHeldOut, syntheticSource } from '../engine/train/synthetic-source'
import { Catalog, type Split } from './catalog'
import { openDatasetSource } from './dataset-source'
import { datasetDir } from '../workspace'

export type ClassificationData = { kind: 'synthetic'; clips: number } | { kind: 'dataset'; name: string }

export interface OpenedSplit {
  split: Split
  source: ClipSource
  close(): Promise<void>
}

/** held-out size of the synthetic task: a quarter of the training clips, at least 8 */
const heldOutSize = (clips: number): number => Math.max(8, Math.round(clips / 4))

export async function openClassificationSplit(workspace: string, data: ClassificationData, model: ModelConfig, preset: string, seed: number, split: Split): Promise<OpenedSplit> {
  if (data.kind === 'synthetic') {
    // val and test are the same held-out clips of the generated task
    const source = split === 'train' ? syntheticSource(data.clips, seed, model) : syntheticHeldOut(data.clips, heldOutSize(data.clips), seed, model)
    return { split, source, close: async () => {} }
  }
  const opened = await openDatasetSource(workspace, data.name, model, split, preset, true)
  return { split, source: opened.source, close: () => opened.close() }
}

/** The split evaluated after every epoch: val when the dataset has prepared val clips, else test. */
export async function openEpochEvalSplit(workspace: string, data: ClassificationData, model: ModelConfig, preset: string, seed: number): Promise<OpenedSplit> {
  if (data.kind === 'dataset') {
    try {
      return await openClassificationSplit(workspace, data, model, preset, seed, 'val')
    } catch (err) {
      if (!/has no prepared val clips/.test((err as Error).message)) throw err
    }
  }
  return openClassificationSplit(workspace, data, model, preset, seed, 'test')
}

export function classNames(workspace: string, data: ClassificationData): string[] {
  if (data.kind === 'synthetic') return [...SYNTHETIC_CLASS_NAMES]
  const catalog = Catalog.open(datasetDir(workspace, data.name))
  try {
    const classes = catalog.classes()
    if (classes.length === 0) throw new Error(`dataset "${data.name}" has no classes: label its clips before fine-tuning a classifier`)
    return classes
  } finally {
    catalog.close()
  }
}
