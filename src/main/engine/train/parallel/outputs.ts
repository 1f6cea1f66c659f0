/**
 * The embeddings a worker's forward hands the coordinator: the pretraining outputs the objective has,
 * each [rows, dim], flattened one after the other in this order. The losses couple every clip of the batch
 * only through them; everything before them is per clip (LayerNorm, no BatchNorm).
 */
import type { ModelConfig } from '../../config'
import type { Objective, PretrainOutputs } from '../../types'

export type OutputKey = keyof PretrainOutputs

export function pretrainOutputKeys(objective: Objective): OutputKey[] {
  return objective === 'inter-only' ? ['zAInv', 'zVInv'] : ['zAInv', 'zVInv', 'zAEquiT', 'zVEquiT', 'zAAug', 'zVAug']
}

export function outputDim(config: ModelConfig, key: OutputKey): number {
  return key === 'zAInv' || key === 'zVInv' ? config.interProjOutDim : config.intraProjOutDim
}

/** Values per clip over all the objective's outputs. */
export function valuesPerRow(config: ModelConfig, objective: Objective): number {
  return pretrainOutputKeys(objective).reduce((n, k) => n + outputDim(config, k), 0)
}
