import type { PrepareRequest } from '../data/prepare-dataset'
import type { ImportRequest } from '../workflows/import'
import type { ClusterExportRequest } from '../cluster/job'
import type { EmbedRequest } from '../workflows/embed'
import type { EstimateRequest } from '../workflows/estimate'
import type { FinetuneRequestInput, PretrainRequestInput } from '../../shared/requests'
import type { Progress } from '../engine/report'

/** What the runner asks an engine process to do. */
export type JobRequest = | { kind: 'prepare'; args: PrepareRequest }
  | { kind: 'pretrain'; args: PretrainJobArgs }
  | { kind: 'finetune'; args: FinetuneJobArgs }
  | { kind: 'import'; args: ImportJobArgs }
  | { kind: 'embed'; args: EmbedJobArgs }
  | { kind: 'estimate'; args: EstimateJobArgs }
  | { kind: 'cluster-export'; args: ClusterExportJobArgs }

/** Seconds per step measured for a task, preset and batch size, cached in the workspace (src/main/workflows/estimate.ts). */
export type EstimateJobArgs = EstimateRequest

/**
 * A training request of the workspace, run by the workflow `equiav pretrain` / `equiav finetune` run
 * (src/main/workflows/); parsed again by the engine process, so a job recorded by an older version gets
 * today's defaults for what it did not set.
 */
export type PretrainJobArgs = PretrainRequestInput & { workspace: string }
export type FinetuneJobArgs = FinetuneRequestInput & { workspace: string }

/** A dataset split embedded with a run's newest weights (src/main/workflows/embed.ts). */
export type EmbedJobArgs = EmbedRequest

/** A folder or a manifest imported into a dataset of the workspace (src/main/workflows/import.ts). */
export type ImportJobArgs = ImportRequest

/** A pretraining run exported for the PyTorch trainer on a cluster (src/main/cluster/job.ts). */
export type ClusterExportJobArgs = ClusterExportRequest

/** Messages from an engine process to the runner. */
export type HostMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'metrics'; row: Record<string, number | string> }
  | { type: 'log'; line: string }
  | { type: 'result'; result: unknown; cancelled: boolean }

/** What the parent sends an engine process: the job once, then possibly a cancel. */
export type ParentMessage = JobRequest | { type: 'cancel' }
