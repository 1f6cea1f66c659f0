import type * as tf from '@tensorflow/tfjs'

/** The pretraining objective (ablation switch). */
import type { Objective } from '../../shared/requests'

export type { Objective }

/**
 * The six embeddings of the official pretraining forward (`MainModel.forward`), before L2 normalisation.
 * Names follow the parity fixture: z_a_inv, z_v_inv, z_a_equi_t, z_v_equi_t, z_a_aug, z_v_aug.
 */
export interface PretrainOutputs {
  /** [B, interProjOutDim] inter-modal audio embedding (centroid of S predictions when cenMean) */
  zAInv: tf.Tensor2D
  zVInv: tf.Tensor2D
  /** [B, intraProjOutDim] predicted embedding of the applied augmentation (absent for inter-only) */
  zAEquiT?: tf.Tensor2D
  zVEquiT?: tf.Tensor2D
  /** [B, intraProjOutDim] embedding of the actual augmented view (absent for inter-only) */
  zAAug?: tf.Tensor2D
  zVAug?: tf.Tensor2D
}

export interface LossWeights {
  inter: number
  intraA: number
  intraV: number
}

export interface LossTerms {
  total: tf.Scalar
  inter: tf.Scalar
  intraA: tf.Scalar
  intraV: tf.Scalar
}
