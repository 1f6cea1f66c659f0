/**
 * An engine worker: one worker thread with its own TensorFlow.js backend and its own copy of the
 * parameters. For each step it runs the forward and the backward of its rows of the batch and writes its
 * gradient into its region of the shared buffer; then each worker sums the regions (in worker order) over
 * its own shard of the trainable values, and applies clipping and AdamW to that shard of the parameters and
 * moments, which live in shared memory; finally every worker loads the whole updated parameter vector, so
 * all of them hold the same parameters. Started by parallel/pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../../backend'
import type { TensorDict } from '../../checkpoint/tensors'
import { embedRows } from '../../eval/embed'
import { classifierTensors } from '../../finetune/batch'
import { classifierLogits } from '../../finetune/model'
import { classificationLoss } from '../../finetune/objective'
import { forwardPretrain, type Params } from '../../model'
import { hostView } from '../../nn/host'
import { type AdamWSettings, clipScale } from '../../optim'
import { toTensorDict } from '../../checkpoint/params'
import { batchTensors } from '../step'
import { measureValues, noHealth, type ParamHealthPart } from '../param-health'
import { pretrainOutputKeys } from './outputs'
import { PhaseClock } from './phases'
import { ShardUpdate, type ShardTensor } from './shard-update'
import type { CoordinatorMessage, FinetuneStepRequest, InitRequest, PretrainStepRequest, WorkerModel, WorkerReply } from './protocol'
import {
  ABORT,
  DE_SEQ,
  GRADS_DONE,
  type GradientLayout,
  NORMS_DONE,
  PARAMS_DONE,
  type Shard,
  type TrainState,
  barrier,
  gradientLayout,
  tensorShards,
  trainState,
  waitAtLeast
} from './shared'

interface WorkerState {
  model: WorkerModel
  params: Params
  /** the trainable parameters, in the layout's order */
  trainable: tf.Variable[]
  /** AdamW's settings and its number of updates so far; null for a pool that only embeds */
  optimizer: { settings: AdamWSettings; stepCount: number } | null
  control: Int32Array
  gradients: Float32Array
  layout: GradientLayout
  /** the shared trainable parameters and moments */
  shared: TrainState
  partials: Float64Array
  /** the trainable tensors, and their values, this worker sums and updates */
  shard: Shard
  /** the kernels and memory of that update */
  update: ShardUpdate
  /** the fixed (not trainable) parameters' measurement, counted by worker 1 only */
  fixedHealth: ParamHealthPart
}

const index = (workerData as { index: number }).index
let state: WorkerState | null = null
/** the phases of the step under way (PhaseClock); reported with its result */
let clock = new PhaseClock()

function ready(): WorkerState {
  if (!state) throw new Error('the worker was not initialised')
  return state
}

async function init(m: InitRequest): Promise<WorkerReply> {
  await initBackend(m.backend)
  const params: Params = new Map()
  for (const [name, t] of m.weights) params.set(name, tf.variable(tf.tensor(t.data, t.shape), m.trainable.includes(name)))
  const trainable = m.trainable.map((name) => params.get(name)!)
  const layout = gradientLayout(m.workers, m.trainable.map((name, i) => ({ name, size: trainable[i].size })))
  const shard = tensorShards(layout)[index]
  const fixedHealth = noHealth()
  if (index === 0 && m.optimizer) for (const v of params.values()) if (!v.trainable) measureValues(fixedHealth, v.dataSync() as Float32Array)
  state = {
    model: m.model,
    params,
    trainable,
    optimizer: m.optimizer ? { ...m.optimizer } : null,
    control: new Int32Array(m.control),
    gradients: new Float32Array(m.gradients),
    layout,
    shared: trainState(m.state, layout),
    partials: new Float64Array(m.partials),
    shard,
    update: new ShardUpdate(shard.from, shard.to - shard.from),
    fixedHealth
  }
  return { type: 'ready' }
}

/** The sum over the workers' regions, in worker order, of the shard's values, into `out` (float32 additions, as a running Float32Array sum). */
function sumShard(s: WorkerState, out: Float32Array): void {
  const { gradients, layout } = s
  const { from, to } = s.shard
  out.set(gradients.subarray(from, to))
  for (let w = 1; w < layout.workers; w++) {
    const part = gradients.subarray(w * layout.stride + from, w * layout.stride + to)
    for (let k = 0; k < out.length; k++) out[k] += part[k]
  }
}

/** √ of the AddN of the tensors' sums of squares, in tensor order (those with a gradient). */
function globalNorm(squares: number[]): number {
  if (squares.length === 0) return 0
  return tf.tidy(() => tf.sqrt(tf.addN(squares.map((x) => tf.scalar(x)))).dataSync()[0])
}

/**
 * Writes this worker's gradient and finite flag and waits for every worker's; then, when all are finite,
 * sums them over its shard, takes the global norm from every tensor's sum of squares (globalNorm), and
 * applies clipping (pretraining) and AdamW to its shard in shared memory; after the last
 * barrier it loads the updated parameters. A parameter without a gradient (outside the objective's graph)
 * is left alone, as AdamW.step does. Returns the norm of the summed gradient before clipping (NaN when
 * nothing was applied or there is no clipping) and the measurement of its shard of the parameters.
 */
function reduceAndApply(s: WorkerState, seq: number, grads: tf.NamedTensorMap, finite: boolean, lr: number, clipNorm: number | null): { gradNorm: number; health: ParamHealthPart } {
  const { layout, gradients, control, shared, shard } = s
  const { stride, workers } = layout
  const own = gradients.subarray(index * stride, (index + 1) * stride)
  const present = s.trainable.map((v, i) => {
    const g = grads[v.name]
    if (g) own.set(hostView(g), layout.offsets[i])
    else own.fill(0, layout.offsets[i], layout.offsets[i] + layout.sizes[i])
    return g !== undefined
  })
  own[stride - 1] = finite ? 1 : 0
  tf.dispose(grads)
  clock.lap('gradients out')
  barrier(control, GRADS_DONE, workers, seq)
  clock.lap('wait gradients')
  let applies = true
  for (let w = 0; w < workers; w++) if (gradients[w * stride + stride - 1] !== 1) applies = false
  const tensors = (i: number): ShardTensor => ({ at: layout.offsets[i] - shard.from, size: layout.sizes[i] })
  const update = s.update
  if (applies) {
    sumShard(s, update.gradient())
    // Σ g² per tensor as the one-thread step's Square and Sum give it, so the norm carries the same rounding
    for (let i = shard.first; i < shard.end; i++) if (present[i]) s.partials[i] = update.squares(tensors(i))
  }
  clock.lap('sum')
  barrier(control, NORMS_DONE, workers, seq)
  clock.lap('wait norms')
  let gradNorm = NaN
  if (applies) {
    const optimizer = s.optimizer
    if (!optimizer) throw new Error('the pool was started without an optimizer')
    const norm = globalNorm(s.trainable.flatMap((_, i) => (present[i] ? [s.partials[i]] : [])))
    const scale = clipNorm === null ? 1 : clipScale(norm, clipNorm)
    optimizer.stepCount++
    const withGradient: ShardTensor[] = []
    for (let i = shard.first; i < shard.end; i++) if (present[i]) withGradient.push(tensors(i))
    update.apply(shared, withGradient, optimizer.settings, optimizer.stepCount, lr, scale)
    if (clipNorm !== null) gradNorm = norm
  }
  const health = { ...s.fixedHealth }
  update.measure(shared, health)
  clock.lap('adamw')
  barrier(control, PARAMS_DONE, workers, seq)
  clock.lap('wait params')
  if (applies)
    s.trainable.forEach((v, i) => {
      const from = layout.offsets[i]
      tf.tidy(() => v.assign(tf.tensor(shared.params.subarray(from, from + layout.sizes[i]), v.shape)))
    })
  clock.lap('load params')
  return { gradNorm, health }
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
  clock = new PhaseClock()
  const inputs = batchTensors({ ...m.batch, ids: [] }, config)
  clock.lap('inputs')
  const reply = new Float32Array(m.dE)
  let finite = false
  try {
    const { grads, value } = tf.variableGrads(() => {
      const out = forwardPretrain(s.params, config, inputs, objective)
      const flat = tf.concat(pretrainOutputKeys(objective).map((k) => tf.reshape(out[k]!, [-1])))
      clock.lap('forward')
      parentPort!.postMessage({ type: 'embeddings', seq: m.seq, data: flat.dataSync() as Float32Array } satisfies WorkerReply)
      waitAtLeast(s.control, DE_SEQ, m.seq)
      clock.lap('wait dE')
      finite = reply[0] === 1
      return tf.sum(tf.mul(flat, tf.tensor1d(reply.subarray(1))))
    }, s.trainable)
    value.dispose()
    clock.lap('backward')
    const { gradNorm, health } = reduceAndApply(s, m.seq, grads, finite, m.lr, m.clipNorm)
    return { type: 'stepped', seq: m.seq, gradNorm, loss: NaN, health, phases: clock.times }
  } finally {
    tf.dispose(Object.values(inputs))
  }
}

/** The classifier's loss on this worker's rows, scaled by rows / globalRows: the parts sum to the batch's mean loss. */
function finetuneStep(m: FinetuneStepRequest): WorkerReply {
  const s = ready()
  if (s.model.kind !== 'classifier') throw new Error('a fine-tuning step was sent to a pretraining pool')
  const { spec, loss } = s.model
  clock = new PhaseClock()
  const inputs = classifierTensors(m.batch, spec.model)
  try {
    const { grads, value } = tf.variableGrads(
      () => tf.mul(classificationLoss(loss, classifierLogits(s.params, spec, inputs), inputs.targets), m.batch.batchSize / m.globalRows),
      s.trainable
    )
    const part = value.dataSync()[0]
    value.dispose()
    clock.lap('forward, backward')
    const { gradNorm, health } = reduceAndApply(s, m.seq, grads, Number.isFinite(part), m.lr, null)
    return { type: 'stepped', seq: m.seq, gradNorm, loss: part, health, phases: clock.times }
  } finally {
    tf.dispose([inputs.a, inputs.v, inputs.targets])
  }
}

function embed(m: Extract<CoordinatorMessage, { type: 'embed' }>): WorkerReply {
  const s = ready()
  const config = s.model.kind === 'pretrain' ? s.model.config : s.model.spec.model
  return { type: 'embedded', ...embedRows(s.params, config, m) }
}

/** AdamW's state as AdamW.exportState writes it: the step count, then each trainable parameter's moments. */
function optimizerState(s: WorkerState, stepCount: number): TensorDict {
  const out: TensorDict = new Map()
  out.set('step', { shape: [1], dtype: 'F32', data: Float32Array.of(stepCount) })
  s.trainable.forEach((v, i) => {
    const [from, to] = [s.layout.offsets[i], s.layout.offsets[i] + s.layout.sizes[i]]
    out.set(`m.${s.layout.names[i]}`, { shape: v.shape, dtype: 'F32', data: s.shared.m.slice(from, to) })
    out.set(`v.${s.layout.names[i]}`, { shape: v.shape, dtype: 'F32', data: s.shared.v.slice(from, to) })
  })
  return out
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
      return { type: 'exported', weights: toTensorDict(s.params), optimizer: s.optimizer && optimizerState(s, s.optimizer.stepCount) }
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
