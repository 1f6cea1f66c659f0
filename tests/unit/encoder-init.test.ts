import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { detectEncoderLayout, loadEncoders } from '../../src/main/engine/checkpoint/encoders'
import { officialFromParams } from '../../src/main/engine/checkpoint/official'
import type { HostTensor, TensorDict } from '../../src/main/engine/checkpoint/tensors'
import { createParams, type Params } from '../../src/main/engine/model'
import { runPretrain } from '../../src/main/engine/train/pretrain'
import { PRETRAIN_SETTINGS, pretrainFolder } from '../helpers/runs'
import { syntheticSource } from '../../src/main/engine/train/synthetic-source'
import { toTensorDict } from '../../src/main/engine/checkpoint/params'
import { MICRO_MODEL } from '../helpers/micro'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)
const dir = mkdtempSync(join(tmpdir(), 'equiav-init-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const values = (p: Params, name: string): number[] => Array.from(p.get(name)!.dataSync())

/** The visual encoder of `source` as a bare ViT state dict, the way MAE's checkpoints name it. */
function maeDict(source: Params): TensorDict {
  const official = officialFromParams(source, MICRO_MODEL)
  const mae: TensorDict = new Map()
  for (const [key, t] of official) {
    const m = /^__M__\.(blocks|patch_embed|norm)_v(\..*)$/.exec(key)
    if (m) mae.set(m[1] + m[2], t)
  }
  // what MAE also ships, which has no counterpart here
  mae.set('cls_token', { dtype: 'F32', shape: [1, 1, 32], data: new Float32Array(32) } as HostTensor)
  mae.set('pos_embed', { dtype: 'F32', shape: [1, 5, 32], data: new Float32Array(160) } as HostTensor)
  return mae
}

describe('pretrained encoders', () => {
  it('load from a bare ViT (MAE layout) into one modality and touch nothing else', () => {
    const source = createParams(MICRO_MODEL, 1)
    const target = createParams(MICRO_MODEL, 2)
    const before = createParams(MICRO_MODEL, 2)
    const dict = maeDict(source)
    expect(detectEncoderLayout(dict)).toBe('mae')
    const loaded = loadEncoders(target, MICRO_MODEL, ['v'], dict, 'mae', 'mae.pth')
    expect(loaded).toContain('blocks_v.0.attn.qkv.weight')
    expect(loaded).toContain('patch_embed_v.proj.weight')
    expect(loaded).toContain('norm_v.weight')
    expect(loaded).not.toContain('pos_embed_v')
    expect(loaded).not.toContain('modality_v')
    for (const name of target.keys()) {
      const want = loaded.includes(name) ? values(source, name) : values(before, name)
      expect(values(target, name), name).toEqual(want)
    }
  })

  it('tile a 1-channel patch kernel (AudioMAE) over the 3 input channels', () => {
    const source = createParams(MICRO_MODEL, 3)
    const dict = maeDict(source)
    const full = dict.get('patch_embed.proj.weight')!
    const [o, , k] = full.shape
    // keep channel 0 only: [O, 1, k, k]
    const one = new Float32Array(o * k * k)
    for (let i = 0; i < o; i++) one.set(full.data.subarray(i * 3 * k * k, i * 3 * k * k + k * k), i * k * k)
    dict.set('patch_embed.proj.weight', { ...full, shape: [o, 1, k, k], data: one })
    const target = createParams(MICRO_MODEL, 4)
    loadEncoders(target, MICRO_MODEL, ['a'], dict, 'mae', 'audiomae.pth')
    const tiled = officialFromParams(target, MICRO_MODEL).get('__M__.patch_embed_a.proj.weight')!.data
    for (let i = 0; i < o; i++) {
      for (let c = 0; c < 3; c++) {
        expect(Array.from(tiled.subarray((i * 3 + c) * k * k, (i * 3 + c + 1) * k * k))).toEqual(Array.from(one.subarray(i * k * k, (i + 1) * k * k)))
      }
    }
  })

  it('load both encoders from an official EquiAV state dict and from a run checkpoint', () => {
    const source = createParams(MICRO_MODEL, 5)
    for (const [dict, layout] of [[officialFromParams(source, MICRO_MODEL), 'official'], [toTensorDict(source), 'ours']] as const) {
      expect(detectEncoderLayout(dict)).toBe(layout)
      const target = createParams(MICRO_MODEL, 6)
      const loaded = loadEncoders(target, MICRO_MODEL, ['a', 'v'], dict, layout, 'src')
      expect(loaded).toContain('pos_embed_a')
      for (const name of loaded) expect(values(target, name), name).toEqual(values(source, name))
      expect(values(target, 'cross_attn_a.norm.weight')).toEqual(values(createParams(MICRO_MODEL, 6), 'cross_attn_a.norm.weight'))
    }
  })

  it('name the source and the tensor when one is missing or mis-shaped', () => {
    const dict = maeDict(createParams(MICRO_MODEL, 7))
    dict.delete('norm.bias')
    expect(() => loadEncoders(createParams(MICRO_MODEL, 8), MICRO_MODEL, ['v'], dict, 'mae', 'vit.pth')).toThrow(/vit\.pth: no tensor norm\.bias, needed for the model's norm_v\.bias/)
    dict.set('norm.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) } as HostTensor)
    expect(() => loadEncoders(createParams(MICRO_MODEL, 8), MICRO_MODEL, ['v'], dict, 'mae', 'vit.pth')).toThrow(/vit\.pth: norm\.bias has shape \[3\]/)
  })

  it('start a pretraining run, which records where its encoders came from', async () => {
    const source = createParams(MICRO_MODEL, 9)
    const runDir = join(dir, 'r')
    const ctx = { signal: new AbortController().signal, progress: () => {}, metrics: () => {}, log: () => {} }
    await runPretrain(
      {
        ...PRETRAIN_SETTINGS,
        preset: 'tiny',
        model: MICRO_MODEL,
        steps: 1,
        batchSize: 2,
        resume: false,
        data: { kind: 'synthetic', clips: 4 },
        init: { weights: maeDict(source), layout: 'mae', from: '/models/mae.pth', modalities: ['v'] }
      },
      syntheticSource(4, 0, MICRO_MODEL),
      pretrainFolder(runDir, ctx),
      ctx
    )
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))
    expect(config.init).toEqual({ from: '/models/mae.pth', layout: 'mae', modalities: ['v'], tensors: 4 + 12 * MICRO_MODEL.depth })
  })
})
