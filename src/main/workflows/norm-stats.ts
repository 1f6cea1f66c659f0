/** A dataset's own input statistics (CAV-MAE's get_norm_stats), computed and stored in its catalog. */
import type { InputNorm } from '../engine/config'
import { PRESETS, type PresetName } from '../engine/config'
import type { Reporter } from '../engine/report'
import { openDataset } from '../data/datasets'
import { computeDatasetInputNorm, storedInputNorm } from '../data/input-norm'

export interface NormStatsRequest {
  name: string
  /** the fbank length the statistics are taken at (padding counts, as in CAV-MAE) */
  preset: PresetName
  /** training clips decoded, spread over the split */
  maxClips: number
  /** keep statistics already stored instead of recomputing them */
  keep: boolean
}

export async function datasetNormStats(workspace: string, r: NormStatsRequest, reporter: Reporter): Promise<InputNorm> {
  const catalog = openDataset(workspace, r.name)
  try {
    const stored = r.keep ? storedInputNorm(catalog) : null
    return (
      stored ??
      (await computeDatasetInputNorm(catalog, r.name, {
        targetLength: PRESETS[r.preset].audioLength,
        maxClips: r.maxClips,
        signal: reporter.signal,
        onProgress: (done, total) => reporter.progress({ done, total, unit: 'clips' })
      }))
    )
  } finally {
    catalog.close()
  }
}
