/** The training guard's measurement of the parameters: how many are not finite, and their global norm. */
import * as tf from '@tensorflow/tfjs'
import type { Params } from '../model'
import type { ParamHealth } from './guard'

/** One host read for all tensors (a few passes over the weights: about 10 ms for `tiny` on wasm). */
export function paramHealth(params: Params): ParamHealth {
  const vars = [...params.values()]
  const total = vars.reduce((n, v) => n + v.size, 0)
  const [nonFinite, sumSquares] = tf.tidy(() => {
    const bad = tf.addN(vars.map((v) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(v)), 'int32'))))
    const squares = tf.addN(vars.map((v) => tf.sum(tf.square(v))))
    return tf.stack([tf.cast(bad, 'float32'), squares]).dataSync()
  })
  return { nonFinite, total, norm: Math.sqrt(sumSquares) }
}
