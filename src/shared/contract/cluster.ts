/** Cluster: a pretraining run exported for PyTorch DDP on a cluster, and cluster run folders attached to the workspace. */
import { z } from 'zod'
import type { CLUSTER_METHODS } from '../methods'
import { DatasetName } from './datasets'
import { JobSchema, PretrainArgsSchema } from './jobs'
import { RunName } from './runs'
import type { MethodSpec } from './spec'

/** an absolute folder path on the machine that serves the workbench (or, for dataRef and runDir, on the cluster) */
const AbsoluteDir = z
  .string()
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute folder path')

/** The pretraining form's settings plus where the export goes (`equiav cluster export`). */
export const ClusterExportArgsSchema = PretrainArgsSchema.omit({ resume: true, syntheticClips: true, dataset: true, workers: true })
  .extend({
    /** a dataset of the workspace: exported in CAV-MAE layout unless dataRef names an export already on the cluster */
    dataset: DatasetName,
    out: AbsoluteDir,
    dataRef: AbsoluteDir.optional(),
    runDir: AbsoluteDir.optional()
  })
  .strict()

export const clusterContract = {
  /** queue a `cluster-export` job: data, config.json, trainer, launch scripts, README under `out` */
  'cluster.export': { input: ClusterExportArgsSchema, output: JobSchema },
  /** register a run folder on a shared or synced file system as run `name` (a link under runs/) */
  'cluster.attach': {
    input: z.object({ dir: AbsoluteDir, name: RunName }).strict(),
    output: z.object({ name: z.string(), target: z.string() })
  }
} as const satisfies Record<(typeof CLUSTER_METHODS)[number], MethodSpec>
