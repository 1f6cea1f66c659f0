/**
 * The `estimate` job: seconds per training step on this machine's backend, measured by running two real
 * steps of the engine's own loop (pretraining, or fine-tuning on randomly initialised encoders) on the
 * synthetic task in a throw-away run folder. The second step is the figure (the first also compiles the
 * backend's kernels); it is cached in the workspace (src/main/data/step-times.ts) for the Train forms.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stepTimeKey } from '../../shared/estimate'
import { initBackend } from '../engine/backend'
import { PRESETS } from '../engine/config'
import { FINETUNE_DEFAULTS, runFinetune } from '../engine/finetune/loop'
import { createParams } from '../engine/model/params'
import { PRETRAIN_DEFAULTS, runPretrain } from '../engine/train/pretrain'
import { toTensorDict } from '../engine/train/run'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { SYNTHETIC_CLASS_NAMES, syntheticSource } from '../engine/train/synthetic-source'
import { recordStepTime } from '../data/step-times'
import type { JobContext } from './context'
import type { EstimateJobArgs } from './protocol'

const STEPS = 2
/** never a checkpoint mid-way: only the final one the loops always write */
const NO_CHECKPOINT = 1_000_000

async function twoSteps(a: EstimateJobArgs, runDir: string, ctx: JobContext): Promise<void> {
  const model = PRESETS[a.preset]
  // enough clips that the two steps stay inside one epoch (no end-of-epoch evaluation)
  const clips = a.batchSize * (STEPS + 1)
  const data = { kind: 'synthetic' as const, clips }
  const source = syntheticSource(clips, 0, model)
  // on as many engine workers as a job started from the form gets by default
  const workers = await resolveWorkers(undefined, a.batchSize)
  const common = { runDir, preset: a.preset, steps: STEPS, batchSize: a.batchSize, seed: 0, checkpointEvery: NO_CHECKPOINT, workers, resume: false, data }
  if (a.task === 'pretrain') {
    await runPretrain({ ...PRETRAIN_DEFAULTS, ...common, model: {}, lr: PRETRAIN_DEFAULTS.lr }, source, ctx)
    return
  }
  const encoders = createParams(model, 0)
  const weights = toTensorDict(encoders)
  encoders.forEach((v) => v.dispose())
  await runFinetune(
    {
      ...FINETUNE_DEFAULTS,
      ...common,
      model,
      modality: 'audio-visual',
      linearProbe: a.task === 'linear-probe',
      mixup: 0,
      classes: [...SYNTHETIC_CLASS_NAMES]
    },
    { lineage: { from: 'randomly initialised encoders', kind: 'run', step: null }, weights, layout: 'ours' },
    { train: source },
    ctx
  )
}

export async function runEstimate(a: EstimateJobArgs, ctx: JobContext): Promise<unknown> {
  const backend = (await initBackend()).name // before any tensor is made
  const runDir = await mkdtemp(join(tmpdir(), 'equiav-estimate-'))
  const seconds: number[] = []
  try {
    await twoSteps(a, runDir, { ...ctx, metrics: (row) => seconds.push(a.batchSize / Number(row.clips_per_s)) })
  } finally {
    await rm(runDir, { recursive: true, force: true })
  }
  if (seconds.length < STEPS) return { cancelled: true }
  const key = { backend, task: a.task, preset: a.preset, batchSize: a.batchSize }
  const secondsPerStep = seconds[seconds.length - 1]
  await recordStepTime(a.workspace, key, secondsPerStep)
  ctx.log(`${stepTimeKey(key)}: ${secondsPerStep.toFixed(3)} s per step (step 1 took ${seconds[0].toFixed(3)} s)`)
  return { ...key, secondsPerStep }
}
