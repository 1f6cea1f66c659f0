/** The demo dataset built (resumably: clips already written are kept) and registered in its catalog. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Catalog } from '../data/catalog'
import { createDemoClips, type DemoManifest, type DemoProgress } from '../data/demo'
import { importDemoManifest } from '../data/importers/demo'
import type { Reporter } from '../engine/report'
import { checkName, datasetDir } from '../workspace'

export interface DemoDatasetRequest {
  name: string
  clips: { train: number; test: number }
  seed: number
  /** the recorded voices (default DEMO_DEFAULTS.voices) */
  voices?: string[]
  /** also the espeak-ng machine voices */
  synthetic: boolean
}

export interface DemoDatasetSummary {
  mediaDir: string
  /** clips the dataset holds */
  clips: number
  /** of which were already written */
  skipped: number
}

export async function buildDemoDataset(workspace: string, r: DemoDatasetRequest, reporter: Reporter): Promise<DemoDatasetSummary> {
  const dir = datasetDir(workspace, checkName('dataset', r.name))
  const mediaDir = join(dir, 'media')
  let last: DemoProgress | undefined
  const built = await createDemoClips({
    outDir: mediaDir,
    clips: r.clips,
    seed: r.seed,
    voices: r.voices,
    synthetic: r.synthetic,
    signal: reporter.signal,
    onProgress: (p) => {
      last = p
      reporter.progress({ done: p.done, total: p.total, unit: 'clips' })
    }
  })
  const manifest = JSON.parse(await readFile(join(mediaDir, 'manifest.json'), 'utf8')) as DemoManifest
  const catalog = Catalog.open(dir)
  try {
    await importDemoManifest(mediaDir, manifest, catalog)
  } finally {
    catalog.close()
  }
  // no progress event means every clip was already there
  return { mediaDir, clips: built.length, skipped: last?.skipped ?? built.length }
}
