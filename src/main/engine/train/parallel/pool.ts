/**
 * Data-parallel engine workers (the coordinator's side). The batch is split by rows over N worker threads
 * (parallel/worker.ts), each with its own backend and copy of the parameters. The contrastive losses couple
 * every clip of the batch, so for a pretraining step the coordinator gathers the workers' embeddings,
 * computes the losses and their gradient with respect to every embedding, and hands each worker its rows of
 * it; each worker back-propagates locally, and the parameter gradients are summed in worker order in shared
 * memory, each worker summing, clipping and applying AdamW to its own shard of the parameters there
 * (parallel/worker.ts). The result equals the one-process step on the same batch up to float rounding.
 * A worker that throws or stops fails the pool (and the job) with an error naming it; no one is left waiting.
 */
import { Worker } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '../../backend'
import type { EquiAVBatch } from '../../batch'
import type { TensorDict } from '../../checkpoint/tensors'
import type { EmbedChunk } from '../../eval/embed'
import type { ClassifierBatch } from '../../finetune/batch'
import type { Params } from '../../model'
import type { AdamW } from '../../optim'
import type { PretrainOutputs } from '../../types'
import { toTensorDict } from '../../checkpoint/params'
import { type LossReadings, pretrainLoss, type StepResult, type StepSettings } from '../step'
import { outputDim, pretrainOutputKeys, valuesPerRow } from './outputs'
import type { ParamHealth } from '../guard'
import { combineHealth } from '../param-health'
import { PhaseClock, type PhaseTimes } from './phases'
import type { CoordinatorMessage, WorkerModel, WorkerReply } from './protocol'
import {
  ABORT,
  DE_SEQ,
  type GradientLayout,
  type TrainState,
  controlBuffer,
  gradientBuffer,
  gradientLayout,
  partialsBuffer,
  publish,
  RowBuffers,
  splitRows,
  trainState,
  trainStateBuffer
} from './shared'

/** Set by the bundled engine host to the bundled worker beside it (out/main/engine-worker.js). */
export const ENGINE_WORKER_ENV = 'EQUIAV_ENGINE_WORKER'

/** The bundled worker when the engine host named it; else the TypeScript source through tsx (CLI, serve, tests). */
function spawnWorker(index: number): Worker {
  const bundled = process.env[ENGINE_WORKER_ENV]
  if (bundled) return new Worker(bundled, { workerData: { index } })
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href)
  const boot = `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`
  return new Worker(boot, { eval: true, workerData: { index } })
}

type Reply<T extends WorkerReply['type']> = Extract<WorkerReply, { type: T }>

/** One worker's replies, taken in order. */
class Link {
  private readonly inbox: WorkerReply[] = []
  private waiter: { resolve: (m: WorkerReply) => void; reject: (e: Error) => void } | null = null

  constructor(readonly thread: Worker) {}

  deliver(m: WorkerReply): void {
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      w.resolve(m)
    } else this.inbox.push(m)
  }

  reject(err: Error): void {
    this.waiter?.reject(err)
    this.waiter = null
  }

  next(): Promise<WorkerReply> {
    const queued = this.inbox.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }))
  }
}

export interface PoolOptions {
  workers: number
  backend: BackendName
  model: WorkerModel
  /** the starting parameters, copied to every worker */
  params: Params
  /** AdamW to continue from (its settings and state); absent for a pool that only embeds */
  optimizer?: AdamW
}

export class EnginePool {
  private failure: Error | null = null
  private closing = false
  private seq = 0
  /** the parameters after the last step, as the workers measured them (each a share) */
  health: ParamHealth | null = null
  /** wall ms per phase of the last step in each thread: the coordinator's (none for fine-tuning), then each worker's */
  phases: PhaseTimes[] = []
  private clock = new PhaseClock()
  private readonly control: Int32Array
  private readonly sent = new RowBuffers()

  private constructor(
    private readonly links: Link[],
    controlBuf: SharedArrayBuffer,
    private readonly model: WorkerModel
  ) {
    this.control = new Int32Array(controlBuf)
  }

  get workers(): number {
    return this.links.length
  }

  /** the worker threads, in order (a test stops one to check that the pool fails cleanly) */
  get threads(): readonly Worker[] {
    return this.links.map((l) => l.thread)
  }

  static async start(o: PoolOptions): Promise<EnginePool> {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`--workers must be a whole number ≥ 1, got ${o.workers}`)
    // a pool that only embeds keeps no gradients
    const trainable = o.optimizer ? [...o.params].filter(([, v]) => v.trainable) : []
    const layout = gradientLayout(o.workers, trainable.map(([name, v]) => ({ name, size: v.size })))
    const state = trainStateBuffer(layout)
    if (o.optimizer) fillTrainState(trainState(state, layout), layout, o.params, o.optimizer.exportState())
    const control = controlBuffer()
    const pool = new EnginePool(Array.from({ length: o.workers }, (_, i) => new Link(spawnWorker(i))), control, o.model)
    pool.links.forEach((link, i) => pool.watch(link, i))
    const init: CoordinatorMessage = {
      type: 'init',
      backend: o.backend,
      workers: o.workers,
      model: o.model,
      weights: toTensorDict(o.params),
      trainable: layout.names,
      optimizer: o.optimizer && { settings: o.optimizer.settings, stepCount: o.optimizer.stepCount },
      control,
      gradients: gradientBuffer(layout),
      state,
      partials: partialsBuffer(layout)
    }
    try {
      await pool.all(() => init, 'ready')
    } catch (err) {
      await pool.close()
      throw err
    }
    return pool
  }

  private name(i: number): string {
    return `engine worker ${i + 1} of ${this.workers}`
  }

  private watch(link: Link, i: number): void {
    link.thread.on('message', (m: WorkerReply) => {
      if (m.type === 'error') this.fail(new Error(`${this.name(i)} failed: ${m.message}`))
      else link.deliver(m)
    })
    link.thread.on('error', (err) => this.fail(new Error(`${this.name(i)} failed: ${err.message}`)))
    link.thread.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${this.name(i)} stopped unexpectedly (exit code ${code})`))
    })
  }

  /** The first failure wins: every waiter is released, on both sides, and the threads are stopped. */
  private fail(err: Error): void {
    if (this.failure || this.closing) return
    this.failure = err
    publish(this.control, ABORT, 1)
    this.links.forEach((l) => l.reject(err))
    void this.close()
  }

  private async expect<T extends WorkerReply['type']>(i: number, type: T): Promise<Reply<T>> {
    if (this.failure) throw this.failure
    const m = await this.links[i].next()
    if (m.type !== type) throw new Error(`${this.name(i)} answered ${m.type} where ${type} was expected`)
    return m as Reply<T>
  }

  /** Sends each worker its message and waits for one reply of `type` from each. */
  private async all<T extends WorkerReply['type']>(message: (i: number) => CoordinatorMessage | null, type: T): Promise<(Reply<T> | null)[]> {
    if (this.failure) throw this.failure
    const asked = this.links.map((l, i) => {
      const m = message(i)
      if (m) l.thread.postMessage(m)
      return m !== null
    })
    return Promise.all(asked.map((yes, i) => (yes ? this.expect(i, type) : Promise.resolve(null))))
  }

  /** Each worker's rows of a batch whose arrays (the Float32Array fields of `x`) all have `batchSize` rows. */
  private rowsFor(batchSize: number, x: object): { start: number; count: number }[] {
    checkRows(x, batchSize)
    if (batchSize < this.workers) throw new Error(`a batch of ${batchSize} clips cannot be split over ${this.workers} engine workers: use --workers ${batchSize} or fewer`)
    return splitRows(batchSize, this.workers)
  }

  /** One pretraining step on the whole batch (see the module comment). */
  async pretrainStep(batch: EquiAVBatch, s: StepSettings): Promise<StepResult> {
    if (this.model.kind !== 'pretrain') throw new Error('this engine pool holds a classifier, not the pretraining model')
    const { config, objective } = this.model
    this.clock = new PhaseClock()
    const B = batch.batchSize
    const rows = this.rowsFor(B, batch)
    const seq = ++this.seq
    const perRow = valuesPerRow(config, objective)
    const dE = rows.map((r) => new SharedArrayBuffer((1 + r.count * perRow) * Float32Array.BYTES_PER_ELEMENT))
    const forward = await this.all(
      (w) => ({
        type: 'pretrain-step',
        seq,
        batch: {
          batchSize: rows[w].count,
          ...this.sent.cut(w, batch, ['a', 'v', 'aAug', 'vAug', 'tA', 'tV', 'tAList', 'tVList'], B, rows[w])
        },
        lr: s.lr,
        clipNorm: s.clipNorm,
        dE: dE[w]
      }),
      'embeddings'
    )
    this.clock.lap('send, wait embeddings')
    try {
      return await this.lossAndBackward(this.model, s, seq, rows, forward.map((f) => f!.data), dE)
    } catch (err) {
      // the workers wait on this side: release them, and fail the pool rather than leave it half-stepped
      this.fail(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  /** The coordinator's part of a pretraining step: the losses on the gathered embeddings, dE out, the workers' update in. */
  private async lossAndBackward(
    { config, objective }: Extract<WorkerModel, { kind: 'pretrain' }>,
    s: StepSettings,
    seq: number,
    rows: { start: number; count: number }[],
    forward: Float32Array[],
    dE: SharedArrayBuffer[]
  ): Promise<StepResult> {
    const B = rows.reduce((n, r) => n + r.count, 0)
    const keys = pretrainOutputKeys(objective)
    const dims = keys.map((k) => outputDim(config, k))
    // the worker's data holds, per output, its rows × dim; gathered: per output, the batch's rows × dim
    const segment = (w: number, k: number): number => rows[w].count * dims.slice(0, k).reduce((a, b) => a + b, 0)
    const gathered = dims.map((d, k) => {
      const all = new Float32Array(B * d)
      forward.forEach((f, w) => all.set(f.subarray(segment(w, k), segment(w, k) + rows[w].count * d), rows[w].start * d))
      return tf.tensor2d(all, [B, d])
    })
    let readings: LossReadings = { inter: NaN, intraA: NaN, intraV: NaN, spreadA: NaN, spreadV: NaN }
    const { value, grads } = tf.valueAndGrads((...zs: tf.Tensor[]) => {
      const out = Object.fromEntries(keys.map((k, i) => [k, zs[i]])) as unknown as PretrainOutputs
      return pretrainLoss(out, s, (r) => (readings = r))
    })(gathered)
    const total = value.dataSync()[0]
    const finite = Number.isFinite(total)
    const dEAll = grads.map((g) => g.dataSync() as Float32Array)
    tf.dispose([value, ...grads, ...gathered])
    this.clock.lap('loss')
    rows.forEach((r, w) => {
      const out = new Float32Array(dE[w])
      out[0] = finite ? 1 : 0
      dims.forEach((d, k) => out.set(dEAll[k].subarray(r.start * d, (r.start + r.count) * d), 1 + segment(w, k)))
    })
    publish(this.control, DE_SEQ, seq)
    this.clock.lap('dE out')
    const done = await Promise.all(this.links.map((_, i) => this.expect(i, 'stepped')))
    this.clock.lap('wait step')
    this.phases = [this.clock.times, ...done.map((d) => d.phases)]
    this.health = combineHealth(done.map((d) => d.health))
    return { total, ...readings, gradNorm: finite ? done[0].gradNorm : NaN }
  }

  /** One fine-tuning step on the whole batch; returns its mean loss (nothing is applied when it is not finite). */
  async finetuneStep(batch: ClassifierBatch, lr: number): Promise<number> {
    if (this.model.kind !== 'classifier') throw new Error('this engine pool holds the pretraining model, not a classifier')
    const B = batch.batchSize
    const rows = this.rowsFor(B, batch)
    const seq = ++this.seq
    const done = await this.all(
      (w) => ({
        type: 'finetune-step',
        seq,
        batch: { batchSize: rows[w].count, ...this.sent.cut(w, batch, ['a', 'v', 'targets'], B, rows[w]) },
        globalRows: B,
        lr
      }),
      'stepped'
    )
    this.phases = [{}, ...done.map((d) => d!.phases)]
    this.health = combineHealth(done.map((d) => d!.health))
    return done.reduce((sum, d) => sum + d!.loss, 0)
  }

  /** Inter-modal embeddings of a chunk, its rows split over the workers. */
  async embed(x: EmbedChunk): Promise<{ za: Float32Array; zv: Float32Array }> {
    checkRows(x, x.rows)
    const rows = splitRows(x.rows, this.workers)
    const parts = await this.all(
      (w) =>
        rows[w].count === 0
          ? null
          : { type: 'embed', kind: x.kind, rows: rows[w].count, ...this.sent.cut(w, x, ['a', 'v', 'tAList', 'tVList'], x.rows, rows[w]) },
      'embedded'
    )
    const concat = (pick: (p: Reply<'embedded'>) => Float32Array): Float32Array => {
      const chunks = parts.filter((p) => p !== null).map(pick)
      const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0))
      let at = 0
      for (const c of chunks) {
        out.set(c, at)
        at += c.length
      }
      return out
    }
    return { za: concat((p) => p.za), zv: concat((p) => p.zv) }
  }

  /** The parameters and optimizer state the workers hold (all equal; read from the first). */
  async exportState(): Promise<{ weights: TensorDict; optimizer: TensorDict | null }> {
    const [first] = await this.all((i) => (i === 0 ? { type: 'export' } : null), 'exported')
    return { weights: first!.weights, optimizer: first!.optimizer }
  }

  /** Stops the threads; a pool that failed reports nothing more. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    await Promise.all(this.links.map((l) => l.thread.terminate()))
  }
}

/** Every Float32Array field of `x` must hold `rows` equal rows: a batch is refused before any worker is sent a part of it. */
function checkRows(x: object, rows: number): void {
  for (const [name, values] of Object.entries(x)) {
    if (values instanceof Float32Array && values.length % rows !== 0) throw new Error(`the batch's ${name} has ${values.length} values, not ${rows} equal rows`)
  }
}

/** The shared trainable parameters and AdamW moments the workers start from: the loop's, and its optimizer's state. */
function fillTrainState(into: TrainState, layout: GradientLayout, params: Params, optimizer: TensorDict): void {
  layout.names.forEach((name, i) => {
    const at = layout.offsets[i]
    const moments = [optimizer.get(`m.${name}`), optimizer.get(`v.${name}`)]
    if (!moments[0] || !moments[1]) throw new Error(`optimizer state has no moments for ${name}`)
    into.params.set(params.get(name)!.dataSync() as Float32Array, at)
    into.m.set(moments[0].data, at)
    into.v.set(moments[1].data, at)
  })
}
