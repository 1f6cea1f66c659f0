/**
 * Shared memory of an engine pool: a few Int32 control words, and one gradient region per worker.
 * A worker blocks on the control words with Atomics.wait (allowed in worker threads), in slices of
 * WAIT_SLICE_MS so that an aborted pool (a worker died) releases every waiter instead of hanging it.
 */

/** seq of the newest step whose loss gradient (dE) the coordinator has written */
export const DE_SEQ = 0
/** gradient regions written so far, over all steps (a step's barrier is at workers × seq) */
export const GRADS_DONE = 1
/** 1 once the coordinator has given up on the pool */
export const ABORT = 2
export const CONTROL_WORDS = 3

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

export function arrive(control: Int32Array, slot: number): void {
  Atomics.add(control, slot, 1)
  Atomics.notify(control, slot)
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
