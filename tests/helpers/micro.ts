import { type ModelConfig, PRESETS } from '../../src/main/engine/config'

/** A model small enough for many training steps inside a unit test (4 audio and 4 visual tokens). */
export const MICRO_MODEL: ModelConfig = {
  ...PRESETS.tiny,
  embedDim: 32,
  depth: 1,
  numHeads: 2,
  audioLength: 32,
  numMelBins: 32,
  imgSize: 32,
  projHiddenDim: 64,
  interProjOutDim: 16,
  intraProjOutDim: 16,
  augEmbDim: 16,
  predictorHeads: 2,
  predictorHeadDim: 8,
  cenNum: 2
}
