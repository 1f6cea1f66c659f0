/** Public surface of the EquiAV model. */
export { type Params, type ParamSpec, type Modality, createParams, disposeParams, paramSpec } from './params'
export { type PretrainInputs, forwardPretrain, forwardFeat, forwardOriginal } from './equiav'
export { encodeAudio, encodeVisual } from './encoder'
