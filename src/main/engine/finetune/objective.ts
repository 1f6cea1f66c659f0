/**
 * Fine-tuning losses: multi-label binary cross-entropy on logits (the official BCEWithLogitsLoss, AudioSet
 * style) and single-label cross-entropy (VGGSound style), both on soft targets so mixup can blend them.
 */
import * as tf from '@tensorflow/tfjs'

import { FINETUNE_LOSSES, type FinetuneLoss } from '../../../shared/requests'

export { FINETUNE_LOSSES, type FinetuneLoss }

/** mean over B·C of −[y log σ(x) + (1−y) log(1−σ(x))], in the stable form max(x,0) − x·y + log(1 + e^−|x|). */
export function bceWithLogits(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const stable = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))
    return tf.mean(stable) as tf.Scalar
  })
}

/** −mean_i Σ_c y_ic log softmax(x_i)_c; one-hot targets give the usual cross-entropy. */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.div(tf.sum(tf.mul(targets, tf.logSoftmax(logits))), logits.shape[0])) as tf.Scalar)
}

export function classificationLoss(loss: FinetuneLoss, logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return loss === 'bce' ? bceWithLogits(logits, targets) : softTargetCrossEntropy(logits, targets)
}
