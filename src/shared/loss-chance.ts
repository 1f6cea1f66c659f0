/**
 * The loss of an encoder that has learnt nothing (every candidate equally similar), per term: the level a
 * curve must go below to show learning. The losses are src/main/engine/losses.ts (../shared/EQUIAV.md §3).
 * - inter-modal InfoNCE over a batch of B pairs: each query ranks the B clips of the other modality, so
 *   −log(1/B) = ln B (both directions alike);
 * - intra-modal NT-Xent: each anchor sees the B actual augmented embeddings and the B − 1 other predicted
 *   ones (itself masked out): 2B − 1 candidates, ln(2B − 1);
 * - the total is the weighted sum of the terms the objective trains (`inter-only` has no intra terms).
 */
import type { Objective } from './requests'

export interface LossWeightsLike {
  inter: number
  intraA: number
  intraV: number
}

export type ChanceLevels = Partial<Record<'loss' | 'loss_inter' | 'loss_intra_a' | 'loss_intra_v', number>>

export function chanceLevels(objective: Objective, batchSize: number, w: LossWeightsLike): ChanceLevels {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`)
  const inter = Math.log(batchSize)
  if (objective === 'inter-only') return { loss_inter: inter, loss: w.inter * inter }
  const intra = Math.log(2 * batchSize - 1)
  return { loss_inter: inter, loss_intra_a: intra, loss_intra_v: intra, loss: w.inter * inter + (w.intraA + w.intraV) * intra }
}
