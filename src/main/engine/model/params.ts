/**
 * The model's parameters, keyed by the official state-dict names without the `__M__.` prefix.
 *
 * Storage orientation (ours; `checkpoint/official.ts` converts):
 * - Linear weight: [in, out] (PyTorch's [out, in] transposed); bias [out].
 * - LayerNorm weight/bias: [dim].
 * - Patch conv: a matmul kernel [C·p·p, D] whose row index is c·p² + i·p + j (PyTorch (O, C, kh, kw)
 *   flattened per output and transposed), matching `patchify`.
 * - modality_a/v: [1, 1, D]; pos_embed_a/v: [1, N, D], non-trainable variables (fixed sin-cos).
 * The per-block norm1_a/norm1_v/norm2_a/norm2_v of the official Block are never used by its forward and are not created.
 */
import * as tf from '@tensorflow/tfjs'
import { type ModelConfig, audioGrid, visualGrid } from '../config'
import { normalInit, xavierUniform } from '../nn/init'
import { Rng } from '../rng'
import { sinCosPosEmbed } from './posEmbed'

export type Params = Map<string, tf.Variable>
export type Modality = 'a' | 'v'
export const MODALITIES: readonly Modality[] = ['a', 'v']

export type ParamKind = 'linear-weight' | 'bias' | 'norm-weight' | 'norm-bias' | 'patch-kernel' | 'modality' | 'pos-embed'

export interface ParamSpec {
  name: string
  kind: ParamKind
  /** shape as we store it */
  shape: number[]
  /** shape in the official PyTorch state dict */
  officialShape: number[]
  trainable: boolean
}

const IN_CHANS = 3

export function linearSpecs(name: string, inDim: number, outDim: number, bias = true): ParamSpec[] {
  const w: ParamSpec = { name: `${name}.weight`, kind: 'linear-weight', shape: [inDim, outDim], officialShape: [outDim, inDim], trainable: true }
  return bias ? [w, { name: `${name}.bias`, kind: 'bias', shape: [outDim], officialShape: [outDim], trainable: true }] : [w]
}

function normSpecs(name: string, dim: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, kind: 'norm-weight', shape: [dim], officialShape: [dim], trainable: true },
    { name: `${name}.bias`, kind: 'norm-bias', shape: [dim], officialShape: [dim], trainable: true }
  ]
}

function projectionHeadSpecs(name: string, inDim: number, hidden: number, outDim: number): ParamSpec[] {
  return [
    ...linearSpecs(`${name}.fc1`, inDim, hidden),
    ...normSpecs(`${name}.norm1`, hidden),
    ...linearSpecs(`${name}.fc2`, hidden, hidden),
    ...normSpecs(`${name}.norm2`, hidden),
    ...linearSpecs(`${name}.fc3`, hidden, outDim),
    ...normSpecs(`${name}.norm3`, outDim)
  ]
}

export function tokenCount(config: ModelConfig, m: Modality): number {
  const g = m === 'a' ? audioGrid(config) : visualGrid(config)
  return g.rows * g.cols
}

/** Every parameter in a fixed order (which is also the order the seeded initialiser draws in). */
export function paramSpec(config: ModelConfig): ParamSpec[] {
  const d = config.embedDim
  const p = config.patchSize
  const hidden = Math.round(d * config.mlpRatio)
  const inner = config.predictorHeads * config.predictorHeadDim
  const specs: ParamSpec[] = []
  for (const m of MODALITIES) {
    const n = tokenCount(config, m)
    specs.push(
      { name: `modality_${m}`, kind: 'modality', shape: [1, 1, d], officialShape: [1, 1, d], trainable: true },
      { name: `pos_embed_${m}`, kind: 'pos-embed', shape: [1, n, d], officialShape: [1, n, d], trainable: false },
      { name: `patch_embed_${m}.proj.weight`, kind: 'patch-kernel', shape: [IN_CHANS * p * p, d], officialShape: [d, IN_CHANS, p, p], trainable: true },
      { name: `patch_embed_${m}.proj.bias`, kind: 'bias', shape: [d], officialShape: [d], trainable: true }
    )
  }
  for (const m of MODALITIES) {
    for (let i = 0; i < config.depth; i++) {
      const b = `blocks_${m}.${i}`
      specs.push(
        ...normSpecs(`${b}.norm1`, d),
        ...linearSpecs(`${b}.attn.qkv`, d, 3 * d),
        ...linearSpecs(`${b}.attn.proj`, d, d),
        ...normSpecs(`${b}.norm2`, d),
        ...linearSpecs(`${b}.mlp.fc1`, d, hidden),
        ...linearSpecs(`${b}.mlp.fc2`, hidden, d)
      )
    }
  }
  for (const m of MODALITIES) specs.push(...normSpecs(`norm_${m}`, d), ...normSpecs(`norm_${m}_aug`, d))
  for (const m of MODALITIES) {
    const e = config.augEmbDim
    const enc = `aug_encoder_${m}`
    specs.push(
      ...linearSpecs(`${enc}.0`, m === 'a' ? config.augSizeA : config.augSizeV, e),
      ...linearSpecs(`${enc}.2`, e, e),
      ...linearSpecs(`${enc}.4`, e, e)
    )
  }
  for (const m of MODALITIES) {
    const c = `cross_attn_${m}`
    specs.push(
      ...normSpecs(`${c}.norm_aug`, config.augEmbDim),
      ...linearSpecs(`${c}.attn.to_q`, config.augEmbDim, inner),
      ...linearSpecs(`${c}.attn.to_k`, d, inner),
      ...linearSpecs(`${c}.attn.to_v`, d, inner),
      ...linearSpecs(`${c}.attn.to_out`, inner, d, false),
      ...normSpecs(`${c}.norm`, d),
      ...linearSpecs(`${c}.mlp.fc1`, d, hidden),
      ...linearSpecs(`${c}.mlp.fc2`, hidden, d)
    )
  }
  for (const head of ['pred_a_intra', 'pred_v_intra']) specs.push(...projectionHeadSpecs(head, d, config.projHiddenDim, config.intraProjOutDim))
  for (const head of ['pred_a_inter', 'pred_v_inter']) specs.push(...projectionHeadSpecs(head, d, config.projHiddenDim, config.interProjOutDim))
  return specs
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function initialValues(spec: ParamSpec, config: ModelConfig, rng: Rng): Float32Array {
  const count = numElements(spec.shape)
  switch (spec.kind) {
    case 'linear-weight':
    case 'patch-kernel': // the official code initialises the conv as a Linear over its flattened input
      return xavierUniform(rng, spec.shape[0], spec.shape[1], count)
    case 'bias':
    case 'norm-bias':
      return new Float32Array(count)
    case 'norm-weight':
      return new Float32Array(count).fill(1)
    case 'modality':
      return normalInit(rng, 0.02, count)
    case 'pos-embed': {
      const g = spec.name.endsWith('_a') ? audioGrid(config) : visualGrid(config)
      return sinCosPosEmbed(config.embedDim, g.rows, g.cols)
    }
  }
}

/** Fresh parameters as the official `initialize_weights` draws them, from a seeded RNG (same seed → same values). */
export function createParams(config: ModelConfig, seed: number): Params {
  return createParamsFromSpecs(paramSpec(config), config, seed)
}

/** Fresh parameters for `specs` only (drawn in their order), e.g. a fine-tuning model's encoders and heads. */
export function createParamsFromSpecs(specs: readonly ParamSpec[], config: ModelConfig, seed: number): Params {
  const rng = new Rng(seed)
  const params: Params = new Map()
  for (const spec of specs) {
    const values = tf.tensor(initialValues(spec, config, rng), spec.shape)
    // unnamed: tfjs variable names are process-global, and several parameter sets may coexist
    params.set(spec.name, tf.variable(values, spec.trainable))
    values.dispose()
  }
  return params
}

/** Look up a parameter, failing with its name rather than an undefined-tensor error deep in an op. */
export function param(params: Params, name: string): tf.Variable {
  const p = params.get(name)
  if (!p) throw new Error(`model parameter "${name}" is missing`)
  return p
}

export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose()
}
