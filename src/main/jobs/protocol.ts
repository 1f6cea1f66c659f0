import type { PrepareRequest } from '../data/prepare-dataset'
import type { EstimateTask } from '../../shared/estimate'
import type { ImportSpec } from '../data/dataset-import'
import type { FinetuneRequest } from '../data/finetune-request'
import type { JobProgress } from './context'

/** What the runner asks an engine process to do. */
export type JobRequest = | { kind: 'prepare'; args: PrepareRequest }
  | { kind: 'pretrain'; args: PretrainJobArgs }
  | { kind: 'finetune'; args: FinetuneJobArgs }
  | { kind: 'import'; args: ImportJobArgs }
  | { kind: 'embed'; args: EmbedJobArgs }
  | { kind: 'estimate'; args: EstimateJobArgs }
  | { kind: 'cluster-export'; args: ClusterExportJobArgs }

/** Seconds per step measured for a task, preset and batch size, cached in the workspace (src/main/jobs/estimate-job.ts). */
export interface EstimateJobArgs {
  workspace: string
  task: EstimateTask
  preset: 'tiny' | 'small' | 'base'
  batchSize: number
}

/** A fine-tuning run, resolved and run as `equiav finetune` does (src/main/data/finetune-request.ts). */
export type FinetuneJobArgs = FinetuneRequest

/** A dataset split embedded with a run's newest weights (src/main/jobs/embed-job.ts). */
export interface EmbedJobArgs {
  workspace: string
  run: string
  dataset: string
  split: 'train' | 'val' | 'test'
}

/** A folder or a manifest imported into a dataset of the workspace (src/main/data/dataset-import.ts). */
export interface ImportJobArgs extends ImportSpec {
  workspace: string
  dataset: string
}

export interface PretrainJobArgs {
  workspace: string
  run: string
  preset: 'tiny' | 'small' | 'base'
  objective: 'equiav' | 'invariant' | 'inter-only'
  steps: number
  batchSize: number
  lr: number
  seed: number
  cenNum?: number
  /** roll the original audio in time (official); the pretraining default when absent */
  timeRoll?: boolean
  checkpointEvery: number
  /** engine workers the batch is split over; the backend's default when absent */
  workers?: number
  resume: boolean
  /** a prepared dataset of the workspace, or the synthetic task */
  dataset?: string
  syntheticClips?: number
}

/** A pretraining run exported for the PyTorch trainer on a cluster (src/main/cluster/job.ts). */
export type ClusterExportJobArgs = Omit<PretrainJobArgs, 'resume' | 'syntheticClips' | 'dataset'> & {
  dataset: string
  /** the folder written */
  out: string
  /** a CAV-MAE export already on the cluster, instead of exporting the data */
  dataRef?: string
  /** the run folder's place on the cluster */
  runDir?: string
}

/** Messages from an engine process to the runner. */
export type HostMessage =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'metrics'; row: Record<string, number | string> }
  | { type: 'log'; line: string }
  | { type: 'result'; result: unknown; cancelled: boolean }

/** What the parent sends an engine process: the job once, then possibly a cancel. */
export type ParentMessage = JobRequest | { type: 'cancel' }
