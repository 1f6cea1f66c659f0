/**
 * An engine worker's part of the optimiser step, on its shard of the trainable values: the sum of squares of
 * each tensor's summed gradient (for the global norm), AdamW, and the health of the updated parameters, run
 * by equiav-kernels.c on a memory of the worker's own. The values go through that memory in parts of at most
 * PART values (16 MB of memory whatever the model), copied in from the pool's shared memory and the results
 * back: the kernels do in SIMD what a JavaScript loop did one value at a time (`npm run bench`, the workers'
 * `sum` and `adamw` phases), with the same float32 operations in the same order (sums carried from part to
 * part), so the values are the one-thread step's to the bit.
 */
import { kernelsWithMemory, type KernelExports } from '../../kernels/module'
import type { AdamWSettings } from '../../optim'
import type { ParamHealthPart } from '../param-health'
import type { TrainState } from './shared'

const f32 = Math.fround
/** values per part */
const PART = 1 << 20
/** byte offsets: an int32 for the health count, then a part of the parameters, moments and gradient */
const COUNT_AT = 0
const FIRST = 64
const regionAt = (k: number): number => FIRST + 4 * k * PART

/** A range of the shard: the values [at, at + size) of one tensor, `at` counted from the shard's start. */
export interface ShardTensor {
  at: number
  size: number
}

/** The parts [from, from + size) of at most PART values that cover [at, at + size). */
function parts({ at, size }: ShardTensor): ShardTensor[] {
  const out: ShardTensor[] = []
  for (let done = 0; done < size; done += PART) out.push({ at: at + done, size: Math.min(PART, size - done) })
  return out
}

export class ShardUpdate {
  private readonly run: KernelExports
  private readonly memory: WebAssembly.Memory
  /** the shard's summed gradient */
  private readonly summed: Float32Array

  /** For a shard of `length` values starting at the value `from` of the trainable layout. */
  constructor(
    private readonly from: number,
    private readonly length: number
  ) {
    ;({ run: this.run, memory: this.memory } = kernelsWithMemory(regionAt(4)))
    this.summed = new Float32Array(length)
  }

  /** region k of the memory (0 parameters, 1 first moments, 2 second moments, 3 gradient), `size` values */
  private region(k: number, size: number): Float32Array {
    return new Float32Array(this.memory.buffer, regionAt(k), size)
  }

  /** Where the shard's summed gradient is to be written (the same buffer every step). */
  gradient(): Float32Array {
    return this.summed
  }

  /** Σ g² of one tensor's summed gradient, in float32 and in order (the backend's Square then Sum in one thread). */
  squares(t: ShardTensor): number {
    const g = this.gradient()
    let sum = 0
    for (const p of parts(t)) {
      this.region(3, p.size).set(g.subarray(p.at, p.at + p.size))
      sum = this.run.sum_of_squares(regionAt(3), p.size, sum)
    }
    return sum
  }

  /**
   * AdamW's update number `stepCount` of `tensors` (those with a gradient) with the gradient scaled by `scale`
   * unless it is 1, on the shared parameters and moments: AdamW.step's values (optim.ts) to the bit.
   */
  apply(state: TrainState, tensors: ShardTensor[], o: AdamWSettings, stepCount: number, lr: number, scale: number): void {
    const c = [f32(o.beta1), f32(o.beta2), f32(1 - o.beta1), f32(1 - o.beta2), f32(Math.sqrt(1 - o.beta2 ** stepCount)), f32(o.eps)]
    const [decay, rate] = [f32(1 - lr * o.weightDecay), f32(lr / (1 - o.beta1 ** stepCount))]
    const g = this.gradient()
    const shared = [state.params, state.m, state.v]
    for (const p of tensors.flatMap(parts)) {
      const at = this.from + p.at
      shared.forEach((a, k) => this.region(k, p.size).set(a.subarray(at, at + p.size)))
      this.region(3, p.size).set(g.subarray(p.at, p.at + p.size))
      this.run.adamw(regionAt(0), regionAt(1), regionAt(2), regionAt(3), p.size, c[0], c[1], c[2], c[3], c[4], c[5], decay, rate, f32(scale), scale === 1 ? 0 : 1)
      shared.forEach((a, k) => a.set(this.region(k, p.size), at))
    }
  }

  /** Adds the shard's parameters in `state` to the measurement `into` (param-health.ts measureValues, in float64). */
  measure(state: TrainState, into: ParamHealthPart): void {
    const count = new Int32Array(this.memory.buffer, COUNT_AT, 1)
    count[0] = 0
    let sum = 0
    for (const p of parts({ at: 0, size: this.length })) {
      this.region(0, p.size).set(state.params.subarray(this.from + p.at, this.from + p.at + p.size))
      sum = this.run.finite_sum_of_squares(regionAt(0), p.size, sum, COUNT_AT)
    }
    into.sumSquares += sum
    into.nonFinite += count[0]
    into.total += this.length
  }
}
