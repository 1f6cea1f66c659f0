import { describe, expect, it } from 'vitest'
import { FinetuneRequestSchema, ImportArgsSchema, contract, describeIssues } from '../../src/shared/contract'

/** The message a schema gives for bad input (or null when it is accepted). */
function problem(schema: { safeParse(x: unknown): { success: true } | { success: false; error: Parameters<typeof describeIssues>[0] } }, input: unknown): string | null {
  const r = schema.safeParse(input)
  return r.success ? null : describeIssues(r.error)
}

describe('fine-tuning job arguments', () => {
  const ok = { run: 'ft1', from: 'r1', dataset: 'demo' }

  it('fills the official defaults for what is left out', () => {
    expect(FinetuneRequestSchema.parse(ok)).toEqual({ ...ok, modality: 'audio-visual', linearProbe: false, loss: 'bce', mixup: 0, timeRoll: true, batchSize: 16, lr: 1e-4, schedule: 'warmup-cosine', seed: 0, checkpointEvery: 100, keepCheckpoints: 3, resume: false })
    expect(FinetuneRequestSchema.parse({ ...ok, linearProbe: true }).lr).toBe(1e-3)
  })

  it.each([
    [{ ...ok, modality: 'text' }, /^modality: must be one of audio, visual, audio-visual$/],
    [{ ...ok, loss: 'mse' }, /^loss: must be one of bce, ce$/],
    [{ ...ok, mixup: 1.5 }, /^mixup: a probability in \[0, 1\]$/],
    [{ ...ok, timeRoll: 'no' }, /^timeRoll: /],
    [{ ...ok, epochs: 0 }, /^epochs: /],
    [{ ...ok, lr: -1 }, /^lr: /],
    [{ ...ok, batchSize: 1 }, /^batchSize: /],
    [{ ...ok, from: '../x' }, /^from: a run name/],
    [{ ...ok, dataset: 'a/b' }, /^dataset: a dataset name/],
    [{ ...ok, run: 'r1' }, /^run: the fine-tuning run needs a name of its own/],
    [{ ...ok, epochs: 2, steps: 10 }, /^steps: give epochs or steps, not both$/],
    [{ ...ok, shell: 'rm' }, /^input: Unrecognized key: "shell"/],
    [{ run: 'ft1' }, /^from: name the encoders to start from/],
    [{ ...ok, fromCheckpoint: '/m/EquiAV.pth' }, /^from: name the encoders to start from: .* one of the two$/],
    [{ ...ok, preset: 'tiny' }, /^preset: a preset goes with fromCheckpoint/],
    [{ run: 'ft1', fromCheckpoint: 'EquiAV.pth' }, /^fromCheckpoint: an absolute path/],
    [{ run: 'ft1', fromCheckpoint: '/m/EquiAV.ckpt' }, /^fromCheckpoint: a \.pth or \.safetensors file$/]
  ])('rejects %j naming the field', (input, message) => {
    expect(problem(FinetuneRequestSchema, input)).toMatch(message)
  })

  it('or an official checkpoint file by absolute path (POSIX or Windows), with its size', () => {
    for (const fromCheckpoint of ['/m/EquiAV.pth', 'C:\\m\\EquiAV.safetensors', '\\\\share\\m\\EquiAV.PTH']) {
      expect(FinetuneRequestSchema.parse({ run: 'ft1', fromCheckpoint, preset: 'tiny' })).toMatchObject({ fromCheckpoint, preset: 'tiny' })
    }
    expect(FinetuneRequestSchema.parse({ run: 'ft1', fromCheckpoint: '/m/EquiAV.pth' }).preset).toBeUndefined() // the engine's default: base
  })

  it('jobs.start takes a finetune job and names the field inside args', () => {
    const start = contract['jobs.start'].input
    expect(problem(start, { kind: 'finetune', args: ok })).toBeNull()
    expect(problem(start, { kind: 'finetune', args: { ...ok, mixup: -0.1 } })).toMatch(/^args\.mixup: a probability/)
    expect(problem(start, { kind: 'estimate', args: ok })).toMatch(/^kind: /)
  })
})

describe('import arguments', () => {
  it('a folder by default, probing found media', () => {
    expect(ImportArgsSchema.parse({ dataset: 'd', from: '/x' })).toEqual({ dataset: 'd', from: '/x', format: 'folder', probe: true })
  })

  it.each([
    [{ dataset: 'd', format: 'audioset-csv', from: '/m.csv' }, /^labels: an AudioSet CSV or CAV-MAE datafile needs its class_labels_indices\.csv$/],
    [{ dataset: 'd', format: 'cavmae-json', from: '/m.json' }, /^labels: /],
    [{ dataset: 'd', format: 'folder', from: '/x', mediaRoot: '/media' }, /^format: labels, split and mediaRoot belong to a manifest import/],
    [{ dataset: 'd', format: 'youtube', from: '/x' }, /^format: /],
    [{ dataset: 'd', format: 'vggsound-csv', from: '' }, /^from: the folder or manifest file to import$/],
    [{ dataset: 'd', format: 'vggsound-csv', from: '/v.csv', split: 'dev' }, /^split: /],
    [{ dataset: 'd', format: 'vggsound-csv', from: '/v.csv', probe: 'no' }, /^probe: /]
  ])('rejects %j naming the field', (input, message) => {
    expect(problem(ImportArgsSchema, input)).toMatch(message)
  })

  it('takes a VGGSound CSV without a class list (its label strings are the classes)', () => {
    expect(problem(ImportArgsSchema, { dataset: 'd', format: 'vggsound-csv', from: '/v.csv', mediaRoot: '/media', probe: false })).toBeNull()
  })
})
