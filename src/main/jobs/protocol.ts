import type { PrepareRequest } from '../data/prepare-dataset'
import type { ImportRequest } from '../workflows/import'
import type { ClusterExportRequest } from '../cluster/job'
import type { EmbedRequest } from '../workflows/embed'
import type { EstimateRequest } from '../workflows/estimate'
import type { FinetuneRequestInput, PretrainRequestInput } from '../../shared/requests'
import type { Progress } from '../engine/report'

/**
 * What the runner asks an engine process to do: a job kind and the request of its workflow (src/main/workflows/,
 * data/prepare-dataset.ts, cluster/job.ts). A training request is parsed again by the engine process, so a
 * job recorded by an older version gets today's defaults for what it did not set.
 */
export type JobRequest =
  | { kind: 'prepare'; args: PrepareRequest }
  | { kind: 'pretrain'; args: PretrainJobArgs }
  | { kind: 'finetune'; args: FinetuneRequestInput & { workspace: string } }
  | { kind: 'import'; args: ImportRequest }
  | { kind: 'embed'; args: EmbedRequest }
  | { kind: 'estimate'; args: EstimateRequest }
  | { kind: 'cluster-export'; args: ClusterExportRequest }

export type PretrainJobArgs = PretrainRequestInput & { workspace: string }

/** Messages from an engine process to the runner. */
export type HostMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'metrics'; row: Record<string, number | string> }
  | { type: 'log'; line: string }
  | { type: 'result'; result: unknown; cancelled: boolean }

/** What the parent sends an engine process: the job once, then possibly a cancel. */
export type ParentMessage = JobRequest | { type: 'cancel' }
