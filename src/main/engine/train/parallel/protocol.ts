/**
 * The messages between the coordinator (the engine process's main thread, parallel/pool.ts) and its
 * engine workers (parallel/worker.ts). The protocol is lock-step: the coordinator sends one request to
 * every worker and waits for one reply of each; only the pretraining step has a middle part, in which the
 * worker reports its embeddings and then blocks (parallel/shared.ts) until the coordinator has written the
 * gradient of the whole batch's loss with respect to them.
 */
import type { BackendName } from '../../backend'
import type { EquiAVBatch } from '../../batch'
import type { TensorDict } from '../../checkpoint/tensors'
import type { ModelConfig } from '../../config'
import type { EmbedChunk } from '../../eval/embed'
import type { ClassifierBatch } from '../../finetune/batch'
import type { ClassifierSpec } from '../../finetune/model'
import type { FinetuneLoss } from '../../finetune/objective'
import type { Objective } from '../../types'
import type { AdamWSettings } from '../../optim'
import type { ParamHealthPart } from '../param-health'
import type { PhaseTimes } from './phases'

/** What the workers' parameters are: the pretraining model, or a fine-tuning classifier. */
export type WorkerModel = { kind: 'pretrain'; config: ModelConfig; objective: Objective } | { kind: 'classifier'; spec: ClassifierSpec; loss: FinetuneLoss }

export interface InitRequest {
  type: 'init'
  backend: BackendName
  workers: number
  model: WorkerModel
  /** every parameter, in the coordinator's order */
  weights: TensorDict
  /** names of the trainable parameters (the rest are fixed) */
  trainable: string[]
  /** present when the pool trains: AdamW's settings and its number of updates so far (its moments are in `state`) */
  optimizer?: { settings: AdamWSettings; stepCount: number }
  /** Int32 control words (shared.ts) */
  control: SharedArrayBuffer
  /** workers × (gradient values + 1) float32: each worker's own gradient and its "finite" flag */
  gradients: SharedArrayBuffer
  /** the trainable parameters and AdamW's moments (shared.ts trainState), each worker updating its shard */
  state: SharedArrayBuffer
  /** a float64 per trainable tensor: the sum of squares of its summed gradient (shared.ts partialsBuffer) */
  partials: SharedArrayBuffer
}

/** The worker's rows of the batch; `dE` receives 1 flag + the gradient of the loss w.r.t. its embeddings. */
export interface PretrainStepRequest {
  type: 'pretrain-step'
  seq: number
  batch: Omit<EquiAVBatch, 'ids' | 'labels'>
  lr: number
  clipNorm: number
  dE: SharedArrayBuffer
}

/** The worker's rows of a classifier batch; its loss is scaled by rows / globalRows so the parts sum to the batch mean. */
export interface FinetuneStepRequest {
  type: 'finetune-step'
  seq: number
  batch: ClassifierBatch
  globalRows: number
  lr: number
}

/** The worker's rows of a chunk to embed. */
export type EmbedRequest = { type: 'embed' } & EmbedChunk

export type CoordinatorMessage = InitRequest | PretrainStepRequest | FinetuneStepRequest | EmbedRequest | { type: 'export' }

export type WorkerReply =
  | { type: 'ready' }
  /** the worker's embeddings, each output's rows in `pretrainOutputKeys` order, flattened */
  | { type: 'embeddings'; seq: number; data: Float32Array }
  /**
   * gradNorm: global norm of the summed gradient before clipping (NaN when nothing was applied);
   * health: the worker's share of the updated parameters, measured for the training guard;
   * phases: the worker thread's wall ms in each phase of the step (parallel/phases.ts)
   */
  | { type: 'stepped'; seq: number; gradNorm: number; loss: number; health: ParamHealthPart; phases: PhaseTimes }
  | { type: 'embedded'; za: Float32Array; zv: Float32Array }
  | { type: 'exported'; weights: TensorDict; optimizer: TensorDict | null }
  | { type: 'error'; message: string }
