/**
 * AdamW exactly as torch.optim.AdamW (decoupled weight decay, bias-corrected moments), and global
 * gradient-norm clipping as torch.nn.utils.clip_grad_norm_. Official settings: β = (0.9, 0.95),
 * weight decay 1e-5 on every parameter, clip at 0.01.
 */
import * as tf from '@tensorflow/tfjs'
import type { TensorDict } from './checkpoint/tensors'

export interface AdamWOptions {
  beta1?: number
  beta2?: number
  eps?: number
  weightDecay?: number
}

export type AdamWSettings = Required<AdamWOptions>

export class AdamW {
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly weightDecay: number
  /** number of updates applied so far */
  stepCount = 0
  private readonly m = new Map<string, tf.Variable>()
  private readonly v = new Map<string, tf.Variable>()

  constructor(
    private readonly params: Map<string, tf.Variable>,
    o: AdamWOptions = {}
  ) {
    this.beta1 = o.beta1 ?? 0.9
    this.beta2 = o.beta2 ?? 0.95
    this.eps = o.eps ?? 1e-8
    this.weightDecay = o.weightDecay ?? 1e-5
    for (const [name, p] of params) {
      if (!p.trainable) continue
      this.m.set(name, tf.variable(tf.zerosLike(p), false))
      this.v.set(name, tf.variable(tf.zerosLike(p), false))
    }
  }

  /** Apply one update with learning rate `lr`; `grads` are keyed by parameter name (variable name or map key). */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.stepCount++
    const bc1 = 1 - this.beta1 ** this.stepCount
    const bc2 = 1 - this.beta2 ** this.stepCount
    for (const [name, p] of this.params) {
      if (!p.trainable) continue
      const g = grads.get(name) ?? grads.get(p.name)
      if (!g) continue
      const m = this.m.get(name)!
      const v = this.v.get(name)!
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1))
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2))
        const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), this.eps)
        const decayed = tf.mul(p, 1 - lr * this.weightDecay)
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), lr / bc1)))
        m.assign(mNew)
        v.assign(vNew)
      })
    }
  }

  get settings(): AdamWSettings {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay }
  }

  exportState(): TensorDict {
    const out: TensorDict = new Map()
    out.set('step', { shape: [1], dtype: 'F32', data: Float32Array.of(this.stepCount) })
    for (const [name, m] of this.m) {
      out.set(`m.${name}`, { shape: m.shape, dtype: 'F32', data: m.dataSync() as Float32Array })
      out.set(`v.${name}`, { shape: m.shape, dtype: 'F32', data: this.v.get(name)!.dataSync() as Float32Array })
    }
    return out
  }

  importState(state: TensorDict): void {
    const step = state.get('step')
    if (!step) throw new Error('optimizer state has no step')
    this.stepCount = step.data[0]
    for (const [prefix, moments] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, variable] of moments) {
        const t = state.get(`${prefix}.${name}`)
        if (!t) throw new Error(`optimizer state has no ${prefix}.${name}`)
        variable.assign(tf.tensor(t.data, variable.shape))
      }
    }
  }

  dispose(): void {
    this.m.forEach((t) => t.dispose())
    this.v.forEach((t) => t.dispose())
  }
}

/** The factor clipByGlobalNorm scales every gradient by: min(1, maxNorm / (‖g‖ + 1e-6)). */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6))
}

/**
 * Scale all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the norm over all of them.
 * Returns the norm before clipping and the gradients: new tensors when they were scaled, else the given
 * ones themselves (no copy: a copy of every gradient cost ~7 ms of a tiny step on wasm). The caller
 * disposes both maps, skipping tensors already disposed.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))).dataSync()[0])
  const coef = clipScale(norm, maxNorm)
  if (coef === 1) return { grads, norm }
  return { grads: new Map([...grads].map(([name, g]) => [name, tf.mul(g, coef)])), norm }
}
