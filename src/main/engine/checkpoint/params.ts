/** Moving parameters between the engine's variables and checkpoints' tensors. */
import * as tf from '@tensorflow/tfjs'
import type { Params } from '../model'
import type { TensorDict } from './tensors'

export function toTensorDict(params: Params): TensorDict {
  const out: TensorDict = new Map()
  for (const [name, v] of params) out.set(name, { shape: v.shape, dtype: 'F32', data: v.dataSync() as Float32Array })
  return out
}

export function assignFrom(params: Params, dict: TensorDict, source: string): void {
  for (const [name, v] of params) {
    const t = dict.get(name)
    if (!t) throw new Error(`${source}: checkpoint has no tensor ${name}`)
    if (t.shape.join(',') !== v.shape.join(',')) {
      throw new Error(`${source}: ${name} has shape [${t.shape}] but the model expects [${v.shape}]`)
    }
    v.assign(tf.tensor(t.data, v.shape))
  }
}
