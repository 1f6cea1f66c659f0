/**
 * An engine worker's part of the optimiser step, on its shard of the trainable values: the sum of squares of
 * each tensor's summed gradient (for the global norm), AdamW, and the health of the updated parameters, run
 * by equiav-kernels.c on a memory of the worker's own. The shard's parameters, moments and summed gradient are
 * copied there and the results back to the pool's shared memory: the kernels do in SIMD what a JavaScript
 * loop did one value at a time (`npm run bench`, the workers' `sum` and `adamw` phases), with the same
 * float32 operations in the same order, so the values are the one-thread step's to the bit.
 */
import { kernelsWithMemory, type KernelExports } from '../../kernels/module'
import type { AdamWSettings } from '../../optim'
import type { ParamHealthPart } from '../param-health'
import type { TrainState } from './shared'

const f32 = Math.fround
/** byte offsets: an int32 for the health count, then the shard's parameters, moments and gradient */
const COUNT_AT = 0
const FIRST = 64

/** A range of the shard: the values [at, at + size) of one tensor, `at` counted from the shard's start. */
export interface ShardTensor {
  at: number
  size: number
}

export class ShardUpdate {
  private readonly run: KernelExports
  private readonly memory: WebAssembly.Memory

  /** For a shard of `length` values starting at the value `from` of the trainable layout. */
  constructor(
    private readonly from: number,
    private readonly length: number
  ) {
    ;({ run: this.run, memory: this.memory } = kernelsWithMemory(FIRST + 16 * length))
  }

  /** byte offset of region k: 0 parameters, 1 first moments, 2 second moments, 3 summed gradient */
  private at(k: number): number {
    return FIRST + 4 * k * this.length
  }

  private region(k: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.at(k), this.length)
  }

  /** Where the shard's summed gradient is to be written (valid until the next call). */
  gradient(): Float32Array {
    return this.region(3)
  }

  /** Σ g² of one tensor's summed gradient, in float32 and in order (the backend's Square then Sum in one thread). */
  squares(t: ShardTensor): number {
    return this.run.sum_of_squares(this.at(3) + 4 * t.at, t.size)
  }

  /**
   * AdamW's update number `stepCount` of `tensors` (those with a gradient) with the gradient scaled by `scale`
   * unless it is 1, on the shared parameters and moments: AdamW.step's values (optim.ts) to the bit.
   */
  apply(state: TrainState, tensors: ShardTensor[], o: AdamWSettings, stepCount: number, lr: number, scale: number): void {
    const span = (a: Float32Array): Float32Array => a.subarray(this.from, this.from + this.length)
    const [p, m, v] = [this.region(0), this.region(1), this.region(2)]
    p.set(span(state.params))
    m.set(span(state.m))
    v.set(span(state.v))
    const c = [f32(o.beta1), f32(o.beta2), f32(1 - o.beta1), f32(1 - o.beta2), f32(Math.sqrt(1 - o.beta2 ** stepCount)), f32(o.eps)]
    const [decay, rate] = [f32(1 - lr * o.weightDecay), f32(lr / (1 - o.beta1 ** stepCount))]
    for (const t of tensors) {
      const [pAt, mAt, vAt, gAt] = [0, 1, 2, 3].map((k) => this.at(k) + 4 * t.at)
      this.run.adamw(pAt, mAt, vAt, gAt, t.size, c[0], c[1], c[2], c[3], c[4], c[5], decay, rate, f32(scale), scale === 1 ? 0 : 1)
    }
    span(state.params).set(p)
    span(state.m).set(m)
    span(state.v).set(v)
  }

  /** Adds the shard's parameters in `state` to the measurement `into` (param-health.ts measureValues, in float64). */
  measure(state: TrainState, into: ParamHealthPart): void {
    this.region(0).set(state.params.subarray(this.from, this.from + this.length))
    const count = new Int32Array(this.memory.buffer, COUNT_AT, 1)
    count[0] = 0
    into.sumSquares += this.run.finite_sum_of_squares(this.at(0), this.length, COUNT_AT)
    into.nonFinite += count[0]
    into.total += this.length
  }
}
