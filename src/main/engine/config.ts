/**
 * Model configuration. Field names follow the official `MainModel` constructor (camelCased);
 * defaults are the paper's model (ViT-B/16 audio + visual, ../shared/EQUIAV.md §1).
 */
export interface ModelConfig {
  /** token width of both encoders (official embed_dim) */
  embedDim: number
  /** transformer blocks per encoder (official modality_specific_depth) */
  depth: number
  /** attention heads per encoder block */
  numHeads: number
  /** MLP hidden = mlpRatio · embedDim */
  mlpRatio: number
  /** fbank frames fed to the audio encoder (official audio_length / target_length) */
  audioLength: number
  /** mel bins of the fbank */
  numMelBins: number
  /** square frame side in pixels */
  imgSize: number
  /** square patch side for both modalities */
  patchSize: number
  /** hidden width of the projection heads */
  projHiddenDim: number
  /** output width of the inter-modal (invariant) heads */
  interProjOutDim: number
  /** output width of the intra-modal (equivariant) heads */
  intraProjOutDim: number
  /** width of the augmentation encoder (official aug_emb_dim) */
  augEmbDim: number
  /** length of the audio augmentation parameter vector (official aug_size_a) */
  augSizeA: number
  /** length of the visual augmentation parameter vector (official aug_size_v) */
  augSizeV: number
  /** heads of the predictor's cross-attention */
  predictorHeads: number
  /** width of each predictor head */
  predictorHeadDim: number
  /** S: number of sampled augmentation vectors averaged into the centroid (official cen_num) */
  cenNum: number
  /** use the centroid as the inter-modal embedding (official cen_mean); false = mean-pooled baseline */
  cenMean: boolean
  /** LayerNorm epsilon (nn.LayerNorm default) */
  lnEps: number
  /** input normalisation of both modalities (see InputNorm) */
  inputNorm: InputNorm
}

/**
 * How inputs are standardised before the encoders. The official code uses a dataset's own fbank statistics
 * (audio_conf norm_mean / norm_std: AudioSet −4.346 / 4.332, VGGSound −4.956 / 4.486) and ImageNet's
 * per-channel statistics for frames.
 */
export interface InputNorm {
  /** log-mel fbank: (x − mean) / std */
  fbank: { mean: number; std: number }
  /** frames in [0, 1], per RGB channel: (x − mean[c]) / std[c] */
  frame: { mean: [number, number, number]; std: [number, number, number] }
  /** where the numbers come from, e.g. "AudioSet / ImageNet (official)" or "dataset demo, 240 clips" */
  source: string
}

export const OFFICIAL_INPUT_NORM: InputNorm = {
  fbank: { mean: -4.346, std: 4.332 },
  frame: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  source: 'AudioSet fbank / ImageNet frames (official)'
}

/** A model config read from an older config.json may predate `inputNorm`: those runs used the official one. */
export function withInputNorm(c: Omit<ModelConfig, 'inputNorm'> & { inputNorm?: InputNorm }): ModelConfig {
  return { ...c, inputNorm: c.inputNorm ?? OFFICIAL_INPUT_NORM }
}

export const BASE_MODEL: ModelConfig = {
  embedDim: 768,
  depth: 12,
  numHeads: 12,
  mlpRatio: 4,
  audioLength: 1024,
  numMelBins: 128,
  imgSize: 224,
  patchSize: 16,
  projHiddenDim: 2048,
  interProjOutDim: 512,
  intraProjOutDim: 512,
  augEmbDim: 256,
  augSizeA: 24,
  augSizeV: 18,
  predictorHeads: 8,
  predictorHeadDim: 64,
  cenNum: 16,
  cenMean: true,
  lnEps: 1e-5,
  inputNorm: OFFICIAL_INPUT_NORM
}

import type { PresetName } from '../../shared/requests'

export type { PresetName }

export const PRESETS: Record<PresetName, ModelConfig> = {
  /** CPU demo: about a second per step on one wasm thread. 304 frames hold a 3 s demo clip (298 frames). */
  tiny: {
    ...BASE_MODEL,
    embedDim: 128,
    depth: 2,
    numHeads: 4,
    audioLength: 304,
    imgSize: 64,
    projHiddenDim: 256,
    interProjOutDim: 64,
    intraProjOutDim: 64,
    augEmbDim: 64,
    predictorHeads: 4,
    predictorHeadDim: 32
  },
  small: {
    ...BASE_MODEL,
    embedDim: 384,
    depth: 6,
    numHeads: 6,
    audioLength: 512,
    imgSize: 128,
    projHiddenDim: 1024,
    interProjOutDim: 256,
    intraProjOutDim: 256,
    augEmbDim: 128
  },
  base: BASE_MODEL
}

export function audioGrid(c: ModelConfig): { rows: number; cols: number } {
  // rows = frequency patches, cols = time patches (the fbank is transposed to mel × time before patching)
  return { rows: c.numMelBins / c.patchSize, cols: c.audioLength / c.patchSize }
}

export function visualGrid(c: ModelConfig): { rows: number; cols: number } {
  return { rows: c.imgSize / c.patchSize, cols: c.imgSize / c.patchSize }
}
