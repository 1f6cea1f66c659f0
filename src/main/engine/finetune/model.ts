/**
 * The fine-tuning classifier (official models/ft_EquiAV.py, ../shared/EQUIAV.md §5): the pretrained
 * encoders with their final norms norm_a / norm_v, and new heads on the mean-pooled tokens:
 *  - audio:        mlp_head.0 = Linear(D→C) on mean_n h_a (the official audio_only mode crashes; this one does not);
 *  - visual:       mlp_head.0 = Linear(D→C) on mean_n h_v;
 *  - audio-visual: concat[pred_a_inter(mean_n h_a), pred_v_inter(mean_n h_v)] (Linear D→P each, the official
 *                  `inter_linear`) → mlp_head.0 = Linear(2P→C), with P = interProjOutDim (512 in the paper).
 * Head names are the official ones; `pred_*_inter.weight` does not match the pretrained MLP heads'
 * `pred_*_inter.fc1.weight`, so, as officially, nothing of the predictor or the projection heads is loaded.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { encoderParamSpecs, loadEncoders } from '../checkpoint/encoders'
import type { TensorDict } from '../checkpoint/tensors'
import { applyLinear, encodeAudio, encodeVisual } from '../model/encoder'
import { type Modality, type ParamSpec, type Params, createParamsFromSpecs, linearSpecs, param } from '../model/params'

import { FINETUNE_MODALITIES, type FinetuneModality } from '../../../shared/requests'

export { FINETUNE_MODALITIES, type FinetuneModality }

export interface ClassifierSpec {
  model: ModelConfig
  modality: FinetuneModality
  classes: number
}

export function encoderModalities(modality: FinetuneModality): Modality[] {
  return modality === 'audio' ? ['a'] : modality === 'visual' ? ['v'] : ['a', 'v']
}

/** The pretrained parameters a classifier of this modality takes over, in the pretraining model's order. */
export function encoderSpecs(spec: ClassifierSpec): ParamSpec[] {
  return encoderParamSpecs(spec.model, encoderModalities(spec.modality))
}

export function headSpecs(spec: ClassifierSpec): ParamSpec[] {
  const d = spec.model.embedDim
  if (spec.modality !== 'audio-visual') return linearSpecs('mlp_head.0', d, spec.classes)
  const p = spec.model.interProjOutDim
  return [...linearSpecs('pred_a_inter', d, p), ...linearSpecs('pred_v_inter', d, p), ...linearSpecs('mlp_head.0', 2 * p, spec.classes)]
}

/**
 * Encoders (to be overwritten by loadEncoderWeights) and freshly initialised heads (Xavier-uniform, zero
 * bias, as the official _init_weights). With `frozenEncoders` (linear probe) only the heads are trainable.
 */
export function createClassifierParams(spec: ClassifierSpec, seed: number, frozenEncoders: boolean): Params {
  if (!Number.isInteger(spec.classes) || spec.classes < 1) throw new Error(`a classifier needs at least one class, got ${spec.classes}`)
  const encoders = encoderSpecs(spec)
  const params = createParamsFromSpecs([...encoders, ...headSpecs(spec)], spec.model, seed)
  if (frozenEncoders) for (const s of encoders) param(params, s.name).trainable = false
  return params
}

/** 'ours': a run checkpoint (our names and layout); 'official': a PyTorch state dict, `__M__.` prefix optional. */
export type WeightLayout = 'ours' | 'official'

/**
 * Copies exactly the encoder weights of the classifier's modalities from a checkpoint into `params` and
 * returns their names. Errors name the source and the first missing or mis-shaped tensor.
 */
export function loadEncoderWeights(params: Params, spec: ClassifierSpec, dict: TensorDict, layout: WeightLayout, source: string): string[] {
  return loadEncoders(params, spec.model, encoderModalities(spec.modality), dict, layout, source)
}

/** One batch of classifier input; only the modalities the classifier uses need to be present. */
export interface ClassifierInputs {
  /** [B, 3, audioLength, numMelBins] */
  a?: tf.Tensor4D
  /** [B, 3, imgSize, imgSize] */
  v?: tf.Tensor4D
}

function pooled(params: Params, spec: ClassifierSpec, m: Modality, inputs: ClassifierInputs): tf.Tensor2D {
  const x = m === 'a' ? inputs.a : inputs.v
  if (!x) throw new Error(`the ${spec.modality} classifier needs ${m === 'a' ? 'audio' : 'visual'} input`)
  const h = m === 'a' ? encodeAudio(params, spec.model, x) : encodeVisual(params, spec.model, x) // [B, N, D]
  return tf.mean(h, 1) as tf.Tensor2D
}

/** Class logits [B, C]. */
export function classifierLogits(params: Params, spec: ClassifierSpec, inputs: ClassifierInputs): tf.Tensor2D {
  return tf.tidy(() => {
    if (spec.modality === 'audio') return applyLinear(params, 'mlp_head.0', pooled(params, spec, 'a', inputs))
    if (spec.modality === 'visual') return applyLinear(params, 'mlp_head.0', pooled(params, spec, 'v', inputs))
    const za = applyLinear(params, 'pred_a_inter', pooled(params, spec, 'a', inputs)) // [B, P]
    const zv = applyLinear(params, 'pred_v_inter', pooled(params, spec, 'v', inputs))
    return applyLinear(params, 'mlp_head.0', tf.concat([za, zv], 1))
  })
}
