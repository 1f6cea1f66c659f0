/**
 * The `estimate` job: seconds per training step on this machine's backend, measured by running two real
 * steps of the engine's own loop (pretraining, or fine-tuning on randomly initialised encoders) on the
 * synthetic task in a throw-away workspace. The second step is the figure (the first also compiles the
 * backend's kernels); it is cached in the workspace (src/main/data/step-times.ts) for the Train forms.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stepTimeKey } from '../../shared/estimate'
import { FINETUNE_LR, KEEP_CHECKPOINTS, PretrainRequestSchema, WEIGHT_DECAY } from '../../shared/requests'
import { initBackend } from '../engine/backend'
import { toTensorDict } from '../engine/checkpoint/params'
import { PRESETS } from '../engine/config'
import { runFinetune } from '../engine/finetune/loop'
import { createParams } from '../engine/model/params'
import type { Reporter } from '../engine/report'
import { SYNTHETIC_CLASS_NAMES, syntheticSource } from '../engine/train/synthetic-source'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { recordStepTime } from '../data/step-times'
import { FinetuneConfigSchema } from '../runs/config'
import { openRunFolder } from '../runs/run-folder'
import type { EstimateTask } from '../../shared/estimate'
import { runPretrainRequest } from './pretrain'

/** Seconds per step to measure for a task, preset and batch size, cached in the workspace. */
export interface EstimateRequest {
  workspace: string
  task: EstimateTask
  preset: 'tiny' | 'small' | 'base'
  batchSize: number
}

const STEPS = 2
/** never a checkpoint mid-way: only the final one the loops always write */
const NO_CHECKPOINT = 1_000_000

/** Two steps in a throw-away workspace: pretraining as `equiav pretrain --synthetic` runs it, fine-tuning on random encoders. */
async function twoSteps(a: EstimateRequest, workspace: string, reporter: Reporter): Promise<void> {
  // enough clips that the two steps stay inside one epoch (no end-of-epoch evaluation)
  const clips = a.batchSize * (STEPS + 1)
  // on as many engine workers as a job started from the form gets by default
  const workers = await resolveWorkers(undefined, a.batchSize)
  const common = { steps: STEPS, batchSize: a.batchSize, seed: 0, checkpointEvery: NO_CHECKPOINT, workers, resume: false }
  if (a.task === 'pretrain') {
    await runPretrainRequest(workspace, PretrainRequestSchema.parse({ ...common, run: 'estimate', preset: a.preset, syntheticClips: clips }), reporter)
    return
  }
  const model = PRESETS[a.preset]
  const encoders = createParams(model, 0)
  const weights = toTensorDict(encoders)
  encoders.forEach((v) => v.dispose())
  const linearProbe = a.task === 'linear-probe'
  await runFinetune(
    {
      ...common,
      model,
      preset: a.preset,
      modality: 'audio-visual',
      linearProbe,
      loss: 'bce',
      mixup: 0,
      classes: [...SYNTHETIC_CLASS_NAMES],
      lr: linearProbe ? FINETUNE_LR.linearProbe : FINETUNE_LR.fineTune,
      schedule: 'warmup-cosine',
      weightDecay: WEIGHT_DECAY,
      data: { kind: 'synthetic', clips }
    },
    { lineage: { from: 'randomly initialised encoders', kind: 'run', step: null }, weights, layout: 'ours' },
    { train: syntheticSource(clips, 0, model) },
    openRunFolder(join(workspace, 'estimate'), { schema: FinetuneConfigSchema, keepCheckpoints: KEEP_CHECKPOINTS, log: (line) => reporter.log(line) }),
    reporter
  )
}

export async function runEstimate(a: EstimateRequest, ctx: Reporter): Promise<unknown> {
  const backend = (await initBackend()).name // before any tensor is made
  const scratch = await mkdtemp(join(tmpdir(), 'equiav-estimate-'))
  const seconds: number[] = []
  try {
    await twoSteps(a, scratch, { ...ctx, metrics: (row) => seconds.push(a.batchSize / Number(row.clips_per_s)) })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  if (seconds.length < STEPS) return { cancelled: true }
  const key = { backend, task: a.task, preset: a.preset, batchSize: a.batchSize }
  const secondsPerStep = seconds[seconds.length - 1]
  await recordStepTime(a.workspace, key, secondsPerStep)
  ctx.log(`${stepTimeKey(key)}: ${secondsPerStep.toFixed(3)} s per step (step 1 took ${seconds[0].toFixed(3)} s)`)
  return { ...key, secondsPerStep }
}
