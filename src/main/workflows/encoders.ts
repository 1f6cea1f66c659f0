/** Pretrained encoder weights named by a request: a run of the workspace or a checkpoint file. */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { detectEncoderLayout, type EncoderLayout } from '../engine/checkpoint/encoders'
import type { TensorDict } from '../engine/checkpoint/tensors'
import { readCheckpointFile } from '../data/checkpoint-files'
import { loadLatestCheckpoint } from '../runs/checkpoints'
import { runDir } from '../workspace'

export interface EncoderSource {
  weights: TensorDict
  layout: EncoderLayout
  /** the run name or the absolute file path, for config.json */
  from: string
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
