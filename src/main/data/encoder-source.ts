/** Pretrained encoder weights named on the command line: a run of the workspace or a checkpoint file. */
import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { detectEncoderLayout, type EncoderLayout } from '../engine/checkpoint/encoders'
import { readPth } from '../engine/checkpoint/pth'
import { readSafetensors } from '../engine/checkpoint/safetensors'
import { loadLatestCheckpoint } from '../engine/checkpoint/store'
import type { TensorDict } from '../engine/checkpoint/tensors'
import { runDir } from '../workspace'

export interface EncoderSource {
  weights: TensorDict
  layout: EncoderLayout
  /** the run name or the absolute file path, for config.json */
  from: string
}

/** A checkpoint file (.pth read safely, or .safetensors): an EquiAV state dict or a single ViT such as MAE's. */
export async function readCheckpointFile(file: string): Promise<TensorDict> {
  const path = resolve(file)
  if (!existsSync(path)) throw new Error(`${path}: no such checkpoint file`)
  const ext = extname(path).toLowerCase()
  if (ext !== '.pth' && ext !== '.pt' && ext !== '.safetensors') throw new Error(`${path}: expected a .pth or .safetensors checkpoint`)
  return ext === '.safetensors' ? readSafetensors(path) : readPth(path)
}

/** `from` is a run of the workspace when one has that name, else a checkpoint file. */
export async function readEncoderSource(workspace: string, from: string): Promise<EncoderSource> {
  const isRun = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(from) && existsSync(runDir(workspace, from))
  if (isRun) {
    const ckpt = await loadLatestCheckpoint(runDir(workspace, from))
    if (!ckpt) throw new Error(`run "${from}" has no checkpoint yet (${runDir(workspace, from)}/checkpoints)`)
    return { weights: ckpt.weights, layout: 'ours', from }
  }
  const weights = await readCheckpointFile(from)
  return { weights, layout: detectEncoderLayout(weights), from: resolve(from) }
}
