/**
 * An engine worker: one worker thread with its own TensorFlow.js backend and its own copy of the
 * parameters (and of AdamW's state when the pool trains). For each step it runs the forward and the
 * backward of its rows of the batch, writes its gradient into its region of the shared buffer, waits for
 * the others, sums every region in worker order and applies the same update as every other worker, so
 * all of them hold the same parameters. Started by parallel/pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../../backend'
import { embedRows } from '../../eval/embed'
import { classifierTensors } from '../../finetune/batch'
import { classifierLogits } from '../../finetune/model'
import { classificationLoss } from '../../finetune/objective'
import { forwardPretrain, type Params } from '../../model'
import { AdamW, clipByGlobalNorm } from '../../optim'
import { toTensorDict } from '../run'
import { batchTensors } from '../step'
import { pretrainOutputKeys } from './outputs'
import type { CoordinatorMessage, FinetuneStepRequest, InitRequest, PretrainStepRequest, WorkerModel, WorkerReply } from './protocol'
import { ABORT, DE_SEQ, GRADS_DONE, type GradientLayout, arrive, gradientLayout, waitAtLeast } from './shared'

interface WorkerState {
  model: WorkerModel
  params: Params
  /** the trainable parameters, in the layout's order */
  trainable: tf.Variable[]
  optimizer: AdamW | null
  control: Int32Array
  gradients: Float32Array
  layout: GradientLayout
}

const index = (workerData as { index: number }).index
let state: WorkerState | null = null

function ready(): WorkerState {
  if (!state) throw new Error('the worker was not initialised')
  return state
}

async function init(m: InitRequest): Promise<WorkerReply> {
  await initBackend(m.backend)
  const params: Params = new Map()
  for (const [name, t] of m.weights) params.set(name, tf.variable(tf.tensor(t.data, t.shape), m.trainable.includes(name)))
  const trainable = m.trainable.map((name) => params.get(name)!)
  let optimizer: AdamW | null = null
  if (m.optimizer) {
    optimizer = new AdamW(params, { weightDecay: m.optimizer.weightDecay })
    optimizer.importState(m.optimizer.state)
  }
  const control = new Int32Array(m.control)
  const gradients = new Float32Array(m.gradients)
  const layout = gradientLayout(m.workers, m.trainable.map((name, i) => ({ name, size: trainable[i].size })))
  state = { model: m.model, params, trainable, optimizer, control, gradients, layout }
  return { type: 'ready' }
}

/**
 * Writes this worker's gradient and finite flag, waits for every worker's, then (when all are finite)
 * sums the regions in worker order and applies clipping (pretraining) and AdamW. Returns the norm of the
 * summed gradient before clipping, NaN when nothing was applied or there is no clipping.
 */
function reduceAndApply(s: WorkerState, seq: number, grads: tf.NamedTensorMap, finite: boolean, lr: number, clipNorm: number | null): number {
  const { layout, gradients, control } = s
  const { stride } = layout
  const own = gradients.subarray(index * stride, (index + 1) * stride)
  const present = s.trainable.map((v, i) => {
    const g = grads[v.name]
    if (g) own.set(g.dataSync(), layout.offsets[i])
    else own.fill(0, layout.offsets[i], layout.offsets[i] + layout.sizes[i])
    return g !== undefined
  })
  own[stride - 1] = finite ? 1 : 0
  tf.dispose(grads)
  arrive(control, GRADS_DONE)
  waitAtLeast(control, GRADS_DONE, layout.workers * seq)
  for (let w = 0; w < layout.workers; w++) if (gradients[w * stride + stride - 1] !== 1) return NaN
  const summed = new Map<string, tf.Tensor>()
  s.trainable.forEach((v, i) => {
    if (!present[i]) return
    const from = layout.offsets[i]
    const sum = gradients.slice(from, from + layout.sizes[i])
    for (let w = 1; w < layout.workers; w++) {
      const part = gradients.subarray(w * stride + from, w * stride + from + layout.sizes[i])
      for (let k = 0; k < sum.length; k++) sum[k] += part[k]
    }
    summed.set(layout.names[i], tf.tensor(sum, v.shape))
  })
  const optimizer = s.optimizer
  if (!optimizer) throw new Error('the pool was started without an optimizer')
  let norm = NaN
  if (clipNorm !== null) {
    const clipped = clipByGlobalNorm(summed, clipNorm)
    norm = clipped.norm
    optimizer.step(clipped.grads, lr)
    tf.dispose([...clipped.grads.values()])
  } else optimizer.step(summed, lr)
  tf.dispose([...summed.values()])
  return norm
}

/**
 * The forward of this worker's rows; its embeddings go to the coordinator, which answers (in shared memory)
 * with the gradient of the whole batch's loss with respect to them, dE. The backward of sum(E ⊙ dE) is then
 * Jᵀ·dE, this worker's share of the parameter gradient, computed without a second forward.
 */
function pretrainStep(m: PretrainStepRequest): WorkerReply {
  const s = ready()
  if (s.model.kind !== 'pretrain') throw new Error('a pretraining step was sent to a classifier pool')
  const { config, objective } = s.model
  const inputs = batchTensors({ ...m.batch, ids: [] }, config)
  const reply = new Float32Array(m.dE)
  let finite = false
  try {
    const { grads, value } = tf.variableGrads(() => {
      const out = forwardPretrain(s.params, config, inputs, objective)
      const flat = tf.concat(pretrainOutputKeys(objective).map((k) => tf.reshape(out[k]!, [-1])))
      parentPort!.postMessage({ type: 'embeddings', seq: m.seq, data: flat.dataSync() as Float32Array } satisfies WorkerReply)
      waitAtLeast(s.control, DE_SEQ, m.seq)
      finite = reply[0] === 1
      return tf.sum(tf.mul(flat, tf.tensor1d(reply.subarray(1))))
    }, s.trainable)
    value.dispose()
    return { type: 'stepped', seq: m.seq, gradNorm: reduceAndApply(s, m.seq, grads, finite, m.lr, m.clipNorm), loss: NaN }
  } finally {
    tf.dispose(Object.values(inputs))
  }
}

/** The classifier's loss on this worker's rows, scaled by rows / globalRows: the parts sum to the batch's mean loss. */
function finetuneStep(m: FinetuneStepRequest): WorkerReply {
  const s = ready()
  if (s.model.kind !== 'classifier') throw new Error('a fine-tuning step was sent to a pretraining pool')
  const { spec, loss } = s.model
  const inputs = classifierTensors(m.batch, spec.model)
  try {
    const { grads, value } = tf.variableGrads(
      () => tf.mul(classificationLoss(loss, classifierLogits(s.params, spec, inputs), inputs.targets), m.batch.batchSize / m.globalRows),
      s.trainable
    )
    const part = value.dataSync()[0]
    value.dispose()
    const gradNorm = reduceAndApply(s, m.seq, grads, Number.isFinite(part), m.lr, null)
    return { type: 'stepped', seq: m.seq, gradNorm, loss: part }
  } finally {
    tf.dispose([inputs.a, inputs.v, inputs.targets])
  }
}

function embed(m: Extract<CoordinatorMessage, { type: 'embed' }>): WorkerReply {
  const s = ready()
  const config = s.model.kind === 'pretrain' ? s.model.config : s.model.spec.model
  return { type: 'embedded', ...embedRows(s.params, config, m) }
}

async function handle(m: CoordinatorMessage): Promise<WorkerReply> {
  switch (m.type) {
    case 'init':
      return init(m)
    case 'pretrain-step':
      return pretrainStep(m)
    case 'finetune-step':
      return finetuneStep(m)
    case 'embed':
      return embed(m)
    case 'export': {
      const s = ready()
      return { type: 'exported', weights: toTensorDict(s.params), optimizer: s.optimizer?.exportState() ?? null }
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

if (parentPort) {
  const port = parentPort
  port.on('message', (m: CoordinatorMessage) => {
    handle(m).then(
      (reply) => port.postMessage(reply),
      (err: unknown) => {
        // release the others before reporting: nobody waits on a worker that has failed
        if (state) Atomics.store(state.control, ABORT, 1)
        port.postMessage({ type: 'error', message: message(err) } satisfies WorkerReply)
      }
    )
  })
}
