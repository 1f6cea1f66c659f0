/** Checkpoint files on disk: PyTorch `.pth` (read safely, no pickle code runs) and `.safetensors`. */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { parsePth } from '../engine/checkpoint/pth'
import { parseSafetensors } from '../engine/checkpoint/safetensors'
import type { TensorDict } from '../engine/checkpoint/tensors'

export async function readPth(path: string): Promise<TensorDict> {
  const file = await readFile(path)
  return parsePth(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), path)
}

export async function readSafetensors(path: string): Promise<TensorDict> {
  return parseSafetensors(new Uint8Array(await readFile(path)), path)
}

/** A checkpoint file (.pth read safely, or .safetensors): an EquiAV state dict or a single ViT such as MAE's. */
export async function readCheckpointFile(file: string): Promise<TensorDict> {
  const path = resolve(file)
  if (!existsSync(path)) throw new Error(`${path}: no such checkpoint file`)
  const ext = extname(path).toLowerCase()
  if (ext !== '.pth' && ext !== '.pt' && ext !== '.safetensors') throw new Error(`${path}: expected a .pth or .safetensors checkpoint`)
  return ext === '.safetensors' ? readSafetensors(path) : readPth(path)
}
