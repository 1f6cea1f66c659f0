/**
 * Shared memory of an engine pool: a few Int32 control words; one gradient region per worker; the trainable
 * parameters with AdamW's moments, each worker updating its own share of them (its `shard`); and the sum
 * of squares of each tensor's summed gradient (for the global norm). A worker blocks on the control words with Atomics.wait (allowed in worker threads), in slices of
 * WAIT_SLICE_MS so that an aborted pool (a worker died) releases every waiter instead of hanging it.
 */

/** seq of the newest step whose loss gradient (dE) the coordinator has written */
export const DE_SEQ = 0
/** gradient regions written so far, over all steps (a step's barrier is at workers × seq) */
export const GRADS_DONE = 1
/** 1 once the coordinator has given up on the pool */
export const ABORT = 2
/** shares whose gradient sum of squares is written, over all steps */
export const NORMS_DONE = 3
/** shares of the parameters updated, over all steps */
export const PARAMS_DONE = 4
export const CONTROL_WORDS = 5

const WAIT_SLICE_MS = 100

export function controlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT)
}

/** Blocks the calling worker until control[slot] ≥ target; throws when the pool is aborted. */
export function waitAtLeast(control: Int32Array, slot: number, target: number): void {
  for (;;) {
    const now = Atomics.load(control, slot)
    if (now >= target) return
    if (Atomics.load(control, ABORT) !== 0) throw new Error('the pool was stopped (another worker failed)')
    Atomics.wait(control, slot, now, WAIT_SLICE_MS)
  }
}

export function publish(control: Int32Array, slot: number, value: number): void {
  Atomics.store(control, slot, value)
  Atomics.notify(control, slot)
}

/** Step `seq`'s barrier on `slot`: returns once all `workers` have reached it (every worker reaches every barrier of every step). */
export function barrier(control: Int32Array, slot: number, workers: number, seq: number): void {
  Atomics.add(control, slot, 1)
  Atomics.notify(control, slot)
  waitAtLeast(control, slot, workers * seq)
}

/** Float32 layout of the gradient buffer: per worker, every trainable value then a finite flag. */
export interface GradientLayout {
  workers: number
  /** trainable parameter names, in order */
  names: string[]
  /** offset of each parameter inside a worker's region */
  offsets: number[]
  sizes: number[]
  /** values per region, flag included */
  stride: number
}

export function gradientLayout(workers: number, params: { name: string; size: number }[]): GradientLayout {
  const offsets: number[] = []
  let total = 0
  for (const p of params) {
    offsets.push(total)
    total += p.size
  }
  return { workers, names: params.map((p) => p.name), offsets, sizes: params.map((p) => p.size), stride: total + 1 }
}

export function gradientBuffer(layout: GradientLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(layout.workers * layout.stride * Float32Array.BYTES_PER_ELEMENT)
}

/** Values of the trainable parameters, all of them one after the other in the layout's order. */
export const trainableValues = (layout: GradientLayout): number => layout.stride - 1

/** The trainable parameters, AdamW's first moments and its second moments, each in the layout's order. */
export interface TrainState {
  params: Float32Array
  m: Float32Array
  v: Float32Array
}

export function trainStateBuffer(layout: GradientLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(3 * trainableValues(layout) * Float32Array.BYTES_PER_ELEMENT)
}

export function trainState(buffer: SharedArrayBuffer, layout: GradientLayout): TrainState {
  const n = trainableValues(layout)
  return { params: new Float32Array(buffer, 0, n), m: new Float32Array(buffer, 4 * n, n), v: new Float32Array(buffer, 8 * n, n) }
}

/** One float64 per trainable tensor: the sum of squares of its summed gradient, written by the worker whose shard holds it. */
export function partialsBuffer(layout: GradientLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(layout.names.length * Float64Array.BYTES_PER_ELEMENT)
}

/** A worker's shard: whole trainable tensors [first, end), which are the values [from, to). */
export interface Shard {
  first: number
  end: number
  from: number
  to: number
}

/** Each worker's shard: the tensors that start in its 1/N of the trainable values (whole tensors, in order). */
export function tensorShards(layout: GradientLayout): Shard[] {
  const total = trainableValues(layout)
  const out: Shard[] = []
  let first = 0
  for (let w = 0; w < layout.workers; w++) {
    let end = first
    while (end < layout.names.length && layout.offsets[end] < ((w + 1) * total) / layout.workers) end++
    const from = first < layout.names.length ? layout.offsets[first] : total
    out.push({ first, end, from, to: end > first ? layout.offsets[end - 1] + layout.sizes[end - 1] : from })
    first = end
  }
  return out
}

/** The rows [start, start+count) each of `workers` gets from a batch of `rows`: contiguous, sizes differing by at most one. */
export function splitRows(rows: number, workers: number): { start: number; count: number }[] {
  const base = Math.floor(rows / workers)
  const extra = rows % workers
  const out: { start: number; count: number }[] = []
  let start = 0
  for (let w = 0; w < workers; w++) {
    const count = base + (w < extra ? 1 : 0)
    out.push({ start, count })
    start += count
  }
  return out
}

/**
 * The rows each worker is sent, in shared memory: one growable SharedArrayBuffer per worker and field,
 * reused from message to message. A Float32Array over one crosses postMessage as a view of the same memory,
 * so a step sends no new ArrayBuffer to a worker (new buffers each step are external memory V8 answers with
 * garbage collections on that worker). The coordinator writes a worker's rows only after its previous reply,
 * when the worker has finished reading them.
 */
export class RowBuffers {
  private readonly buffers = new Map<string, SharedArrayBuffer>()

  /** Rows [start, start + count) of a row-major array of `rows` rows, copied into `worker`'s buffer for `field`. */
  private rows(worker: number, field: string, x: Float32Array, rows: number, r: { start: number; count: number }): Float32Array {
    const len = x.length / rows
    const values = r.count * len
    const key = `${worker}:${field}`
    let buffer = this.buffers.get(key)
    if (!buffer || buffer.byteLength < values * Float32Array.BYTES_PER_ELEMENT) {
      this.buffers.set(key, (buffer = new SharedArrayBuffer(values * Float32Array.BYTES_PER_ELEMENT)))
    }
    const out = new Float32Array(buffer, 0, values)
    out.set(x.subarray(r.start * len, (r.start + r.count) * len))
    return out
  }

  /** The array fields `keys` of `x` (each row-major with `rows` rows) cut to rows `r` in `worker`'s buffers; absent fields stay absent. */
  cut<T, K extends keyof T & string>(worker: number, x: T, keys: readonly K[], rows: number, r: { start: number; count: number }): Pick<T, K> {
    const out: Partial<Pick<T, K>> = {}
    for (const k of keys) {
      const values = x[k]
      if (values instanceof Float32Array) out[k] = this.rows(worker, k, values, rows, r) as T[K]
    }
    return out as Pick<T, K>
  }
}
