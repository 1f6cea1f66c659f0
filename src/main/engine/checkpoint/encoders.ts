/**
 * Pretrained encoder weights copied into a model: what the official pretraining does with
 * `--audio_pretrained_encoder` / `--visual_pretrained_encoder` (ImageNet MAE ViT-B in the paper), and what
 * fine-tuning does with a pretrained EquiAV. Three layouts of the source:
 *  - 'ours':     a run checkpoint of this workbench (our names and orientation);
 *  - 'official': an EquiAV state dict (`__M__.` prefix optional, PyTorch orientation);
 *  - 'mae':      a single ViT (`blocks.*`, `patch_embed.proj.*`, `norm.*`): each name gets the modality
 *                suffix (`blocks.*` → `blocks_a.*`), MAE's `pos_embed` / `cls_token` are skipped (ours are
 *                fixed sin-cos and there is no CLS token), and a 1-channel patch kernel (AudioMAE) is tiled
 *                over the 3 input channels, as the official loader does.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../config'
import { type Modality, type ParamSpec, type Params, param, paramSpec } from '../model/params'
import { fromOfficialLayout } from './official'
import type { HostTensor, TensorDict } from './tensors'

export type EncoderLayout = 'ours' | 'official' | 'mae'

const OFFICIAL_PREFIX = '__M__.'

/** patch_embed, pos_embed, modality vector, blocks and the original-view final norm of modality m */
export function isEncoderParam(name: string, m: Modality): boolean {
  return new RegExp(`^(modality_${m}|pos_embed_${m}|patch_embed_${m}\\.|blocks_${m}\\.|norm_${m}\\.)`).test(name)
}

/** The encoder parameters of the given modalities, in the model's order. */
export function encoderParamSpecs(config: ModelConfig, modalities: readonly Modality[]): ParamSpec[] {
  return paramSpec(config).filter((s) => modalities.some((m) => isEncoderParam(s.name, m)))
}

/** 'mae' when the dict holds a bare ViT, 'official' when it has the `__M__.` prefix, else 'ours'. */
export function detectEncoderLayout(dict: TensorDict): EncoderLayout {
  const keys = [...dict.keys()]
  if (keys.some((k) => k.startsWith(OFFICIAL_PREFIX))) return 'official'
  if (keys.some((k) => /^blocks\.\d+\./.test(k)) && !keys.some((k) => /^blocks_[av]\./.test(k))) return 'mae'
  return 'ours'
}

/** The source's name for our parameter, or null where that layout has none to give. */
function sourceName(name: string, layout: EncoderLayout, dict: TensorDict): string | null {
  if (layout === 'ours') return name
  if (layout === 'official') return dict.has(OFFICIAL_PREFIX + name) ? OFFICIAL_PREFIX + name : name
  if (/^(modality|pos_embed)_[av]$/.test(name)) return null
  return name.replace(/^(blocks|patch_embed|norm)_[av]/, '$1')
}

/** A [O, 1, k, k] patch kernel repeated over 3 input channels → [O, 3, k, k]. */
function tileChannels(t: HostTensor, channels: number): Float32Array {
  const [o, , kh, kw] = t.shape
  const plane = kh * kw
  const out = new Float32Array(o * channels * plane)
  for (let i = 0; i < o; i++) for (let c = 0; c < channels; c++) out.set(t.data.subarray(i * plane, (i + 1) * plane), (i * channels + c) * plane)
  return out
}

function sourceValues(s: ParamSpec, t: HostTensor, layout: EncoderLayout, source: string, key: string): Float32Array {
  const expected = layout === 'ours' ? s.shape : s.officialShape
  let data = t.data
  let shape = t.shape
  if (layout === 'mae' && s.kind === 'patch-kernel' && t.shape.length === 4 && t.shape[1] === 1 && expected[1] === 3) {
    data = tileChannels(t, 3)
    shape = [t.shape[0], 3, t.shape[2], t.shape[3]]
  }
  if (shape.join(',') !== expected.join(',')) throw new Error(`${source}: ${key} has shape [${t.shape}] but the model's ${s.name} expects [${expected}]`)
  return layout === 'ours' ? data : fromOfficialLayout(s, data)
}

/**
 * Copies the encoder weights of `modalities` from `dict` into `params` and returns the names loaded.
 * Errors name the source and the first missing or mis-shaped tensor. Nothing else of the model is touched.
 */
export function loadEncoders(params: Params, config: ModelConfig, modalities: readonly Modality[], dict: TensorDict, layout: EncoderLayout, source: string): string[] {
  const loaded: string[] = []
  for (const s of encoderParamSpecs(config, modalities)) {
    const key = sourceName(s.name, layout, dict)
    if (key === null) continue
    const t = dict.get(key)
    if (!t) throw new Error(`${source}: no tensor ${key}, needed for the model's ${s.name} (is this a ${layout === 'mae' ? 'ViT / MAE' : 'EquiAV'} checkpoint?)`)
    const values = tf.tensor(sourceValues(s, t, layout, source, key), s.shape)
    param(params, s.name).assign(values)
    values.dispose()
    loaded.push(s.name)
  }
  return loaded
}
