/**
 * Conversion between the official PyTorch state dict (`EquiAV_wrapper.state_dict()`, keys `__M__.<name>`)
 * and our `Params` (orientation documented in model/params.ts).
 */
import * as tf from '@tensorflow/tfjs'
import { BASE_MODEL, type ModelConfig } from '../config'
import { type ParamSpec, type Params, paramSpec } from '../model/params'
import type { HostTensor, TensorDict } from './tensors'

const PREFIX = '__M__.'
/** Block norms the official forward never uses (it always takes the modality=None path). */
const UNUSED_NORM = /^blocks_([av])\.(\d+)\.norm([12])_([av])\.(weight|bias)$/

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]
  return out
}

/** Official values → our layout. Linear [out, in] and conv [O, C, kh, kw] (= [O, C·kh·kw]) are both transposed to [in, out]. */
export function fromOfficialLayout(spec: ParamSpec, data: Float32Array): Float32Array {
  if (spec.kind === 'linear-weight' || spec.kind === 'patch-kernel') return transpose2d(data, spec.shape[1], spec.shape[0])
  return data
}

/** Our layout → official values (row-major in `spec.officialShape`). */
export function toOfficialLayout(spec: ParamSpec, data: Float32Array): Float32Array {
  if (spec.kind === 'linear-weight' || spec.kind === 'patch-kernel') return transpose2d(data, spec.shape[0], spec.shape[1])
  return data
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function listed(title: string, items: string[]): string {
  const shown = items.slice(0, 20).join(', ')
  return items.length ? `\n  ${title} (${items.length}): ${shown}${items.length > 20 ? ', …' : ''}` : ''
}

/**
 * Build Params from an official checkpoint dict (with or without the `__M__.` prefix). The unused block
 * norms norm{1,2}_{a,v} are accepted and ignored. Throws listing every missing, unexpected and
 * shape-mismatched key when the dict does not match `config`.
 */
export function paramsFromOfficial(dict: TensorDict, config: ModelConfig): Params {
  const byName = new Map<string, HostTensor>()
  for (const [key, t] of dict) byName.set(key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key, t)
  const specs = paramSpec(config)
  const expected = new Set(specs.map((s) => s.name))
  const missing: string[] = []
  const mismatched: string[] = []
  for (const spec of specs) {
    const t = byName.get(spec.name)
    if (!t) missing.push(spec.name)
    else if (!sameShape(t.shape, spec.officialShape)) mismatched.push(`${spec.name} [${t.shape}] ≠ expected [${spec.officialShape}]`)
  }
  const unexpected = [...byName.keys()].filter((k) => !expected.has(k) && !UNUSED_NORM.test(k))
  if (missing.length || unexpected.length || mismatched.length) {
    throw new Error(
      `official checkpoint does not match the model config (embedDim ${config.embedDim}, depth ${config.depth})` +
        listed('missing', missing) +
        listed('unexpected', unexpected) +
        listed('shape mismatch', mismatched)
    )
  }
  const params: Params = new Map()
  for (const spec of specs) {
    const values = tf.tensor(fromOfficialLayout(spec, (byName.get(spec.name) as HostTensor).data), spec.shape)
    params.set(spec.name, tf.variable(values, spec.trainable))
    values.dispose()
  }
  return params
}

/**
 * Params → an official state dict (prefixed keys) that the PyTorch MainModel loads strictly; the unused
 * block norms are written as identity LayerNorms since the official model still declares them.
 */
export function officialFromParams(params: Params, config: ModelConfig): TensorDict {
  const out: TensorDict = new Map()
  for (const spec of paramSpec(config)) {
    const v = params.get(spec.name)
    if (!v) throw new Error(`model parameter "${spec.name}" is missing`)
    out.set(PREFIX + spec.name, { shape: spec.officialShape, dtype: 'F32', data: toOfficialLayout(spec, v.dataSync() as Float32Array) })
  }
  for (const m of ['a', 'v']) {
    for (let i = 0; i < config.depth; i++) {
      for (const norm of ['norm1_a', 'norm1_v', 'norm2_a', 'norm2_v']) {
        const name = `${PREFIX}blocks_${m}.${i}.${norm}`
        out.set(`${name}.weight`, { shape: [config.embedDim], dtype: 'F32', data: new Float32Array(config.embedDim).fill(1) })
        out.set(`${name}.bias`, { shape: [config.embedDim], dtype: 'F32', data: new Float32Array(config.embedDim) })
      }
    }
  }
  return out
}

/** Number of values in the unused block norms that official checkpoints carry but we do not create. */
export function unusedNormElementCount(config: ModelConfig): number {
  return 2 * config.depth * 4 * 2 * config.embedDim
}

interface FixtureModelConfig {
  embed_dim: number
  modality_specific_depth: number
  num_heads: number
  proj_hidden_dim: number
  inter_proj_out_dim: number
  intra_proj_out_dim: number
  aug_emb_dim: number
  audio_length: number
  num_mel_bins: number
  img_size: number
  cen_mean: boolean
  cen_num: number
}

const FIXTURE_NUMBERS = [
  'embed_dim', 'modality_specific_depth', 'num_heads', 'proj_hidden_dim', 'inter_proj_out_dim',
  'intra_proj_out_dim', 'aug_emb_dim', 'audio_length', 'num_mel_bins', 'img_size', 'cen_num'
] as const

/**
 * ModelConfig of a parity fixture (fixture.json, whose `model_config` holds MainModel constructor
 * arguments); everything the fixture does not set keeps the official defaults (BASE_MODEL), including
 * the predictor's 8 heads × 64, which the official CrossAttentionBlock fixes regardless of embed_dim.
 */
export function modelConfigFromFixture(fixture: unknown): ModelConfig {
  const mc = (fixture as { model_config?: unknown } | null)?.model_config as Partial<Record<string, unknown>> | undefined
  if (!mc || typeof mc !== 'object') throw new Error('fixture has no model_config object')
  for (const k of FIXTURE_NUMBERS) {
    if (typeof mc[k] !== 'number') throw new Error(`fixture model_config.${k} must be a number, got ${JSON.stringify(mc[k])}`)
  }
  if (typeof mc.cen_mean !== 'boolean') throw new Error('fixture model_config.cen_mean must be a boolean')
  const c = mc as unknown as FixtureModelConfig
  return {
    ...BASE_MODEL,
    embedDim: c.embed_dim,
    depth: c.modality_specific_depth,
    numHeads: c.num_heads,
    projHiddenDim: c.proj_hidden_dim,
    interProjOutDim: c.inter_proj_out_dim,
    intraProjOutDim: c.intra_proj_out_dim,
    augEmbDim: c.aug_emb_dim,
    audioLength: c.audio_length,
    numMelBins: c.num_mel_bins,
    imgSize: c.img_size,
    cenMean: c.cen_mean,
    cenNum: c.cen_num
  }
}
