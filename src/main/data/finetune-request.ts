/**
 * A fine-tuning request, as the `equiav finetune` command and the workbench's `finetune` job both give it,
 * resolved into the engine's FinetuneOptions (pretrained encoders read from a run or a checkpoint file,
 * class names, the training split and the split evaluated every epoch) and run. One code path for both.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type ModelConfig, PRESETS, type PresetName, withInputNorm } from '../engine/config'
import { loadLatestCheckpoint } from '../engine/checkpoint/store'
import { readCheckpointFile } from './encoder-source'
import type { ClassificationResult } from '../engine/finetune/evaluate'
import type { FinetuneModality } from '../engine/finetune/model'
import type { FinetuneLoss } from '../engine/finetune/objective'
import { FINETUNE_DEFAULTS, type FinetuneRunConfig, type FinetuneSummary, type LrSchedule, type PretrainedEncoders, runFinetune } from '../engine/finetune/loop'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import type { JobContext } from '../jobs/context'
import { checkName, runDir } from '../workspace'
import { type ClassificationData, classNames, openClassificationSplit, openEpochEvalSplit } from './classification-data'

export interface FinetuneRequest {
  workspace: string
  run: string
  /** a prepared dataset of the workspace; absent: the synthetic task */
  dataset?: string
  /** clips of the synthetic task (default 256) */
  syntheticClips?: number
  /** a run of the workspace whose newest checkpoint gives the encoders */
  from?: string
  /** … or an official .pth / .safetensors state dict, of `preset`'s size (default base) */
  fromCheckpoint?: string
  preset?: PresetName
  modality?: FinetuneModality
  linearProbe?: boolean
  loss?: FinetuneLoss
  mixup?: number
  /** roll the training fbank in time (default true, as the official fine-tuning) */
  timeRoll?: boolean
  steps?: number
  epochs?: number
  batchSize?: number
  /** default 1e-4, or 1e-3 for a linear probe */
  lr?: number
  schedule?: LrSchedule
  warmupSteps?: number
  seed?: number
  checkpointEvery?: number
  /** newest checkpoints kept (default 3; 0: all) */
  keepCheckpoints?: number
  /** engine workers the batch is split over (default: every core on wasm, 1 on the native backends) */
  workers?: number
  /** continue the run from its last checkpoint; without `from`/`fromCheckpoint`, from its recorded lineage */
  resume?: boolean
}

export interface FinetuneOutcome {
  summary: FinetuneSummary
  /** the split evaluated after every epoch */
  evalSplit: string
}

/** "mAP 0.4123" (BCE runs) or "top-1 40.0% top-5 90.0%" (CE runs). */
export function evalHeadline(e: ClassificationResult): string {
  return e.mAP !== undefined ? `mAP ${e.mAP.toFixed(4)}` : `top-1 ${e.top1?.toFixed(1)}% top-5 ${e.top5?.toFixed(1)}%`
}

interface Source {
  pretrained: PretrainedEncoders
  model: ModelConfig
  preset: string
}

/** The newest checkpoint of a run of the workspace (pretraining, or another fine-tuning run). */
async function fromRun(workspace: string, name: string): Promise<Source> {
  const dir = runDir(workspace, checkName('run', name))
  const configPath = join(dir, 'config.json')
  if (!existsSync(configPath)) throw new Error(`no run "${name}" in ${workspace} (no ${configPath})`)
  const config = JSON.parse(await readFile(configPath, 'utf8')) as { model: ModelConfig; preset: string }
  const ckpt = await loadLatestCheckpoint(dir)
  if (!ckpt) throw new Error(`run "${name}" has no checkpoint yet (${dir}/checkpoints)`)
  return { model: withInputNorm(config.model), preset: config.preset, pretrained: { lineage: { from: name, kind: 'run', step: ckpt.step }, weights: ckpt.weights, layout: 'ours' } }
}

/** An official EquiAV state dict (.pth read safely, or .safetensors). */
async function fromCheckpoint(file: string, preset: PresetName): Promise<Source> {
  const path = resolve(file)
  const weights = await readCheckpointFile(path)
  return { model: PRESETS[preset], preset, pretrained: { lineage: { from: path, kind: 'checkpoint', step: null }, weights, layout: 'official' } }
}

/** The pretrained encoders the request names or, when it resumes without naming them, the run's recorded lineage. */
async function pretrainedSource(r: FinetuneRequest, ftRunDir: string): Promise<Source> {
  if (r.from && r.fromCheckpoint) throw new Error('name one source of encoders: a run or a checkpoint file, not both')
  const preset = r.preset ?? 'base'
  if (!(preset in PRESETS)) throw new Error(`preset must be one of ${Object.keys(PRESETS).join(', ')}`)
  if (r.from) return fromRun(r.workspace, r.from)
  if (r.fromCheckpoint) return fromCheckpoint(r.fromCheckpoint, preset)
  const configPath = join(ftRunDir, 'config.json')
  if (r.resume && existsSync(configPath)) {
    const previous = JSON.parse(await readFile(configPath, 'utf8')) as FinetuneRunConfig
    return previous.lineage.kind === 'run' ? fromRun(r.workspace, previous.lineage.from) : fromCheckpoint(previous.lineage.from, previous.preset as PresetName)
  }
  throw new Error('no pretrained encoders: name a pretraining run of the workspace or an official .pth / .safetensors checkpoint')
}

/** Resolves the request, opens its data and fine-tunes; the splits are closed however it ends. */
export async function runFinetuneRequest(r: FinetuneRequest, ctx: JobContext): Promise<FinetuneOutcome> {
  const mixup = r.mixup ?? 0
  if (!(mixup >= 0 && mixup <= 1)) throw new Error(`mixup is a probability in [0, 1], got ${mixup}`)
  const dir = resolve(runDir(r.workspace, checkName('run', r.run)))
  const seed = r.seed ?? FINETUNE_DEFAULTS.seed
  const linearProbe = r.linearProbe ?? false
  const data: ClassificationData = r.dataset ? { kind: 'dataset', name: checkName('dataset', r.dataset) } : { kind: 'synthetic', clips: r.syntheticClips ?? 256 }
  const batchSize = r.batchSize ?? FINETUNE_DEFAULTS.batchSize
  const workers = await resolveWorkers(r.workers, batchSize)
  const { model, preset, pretrained } = await pretrainedSource(r, dir)
  const classes = classNames(r.workspace, data)
  const train = await openClassificationSplit(r.workspace, data, model, preset, seed, 'train')
  const evalSplit = await openEpochEvalSplit(r.workspace, data, model, preset, seed).catch(async (err: unknown) => {
    await train.close()
    throw err
  })
  try {
    const summary = await runFinetune(
      {
        runDir: dir,
        model,
        preset,
        modality: r.modality ?? 'audio-visual',
        linearProbe,
        loss: r.loss ?? FINETUNE_DEFAULTS.loss,
        mixup,
        timeRoll: r.timeRoll,
        classes,
        steps: r.steps,
        epochs: r.epochs,
        batchSize,
        lr: r.lr,
        schedule: r.schedule ?? FINETUNE_DEFAULTS.schedule,
        warmupSteps: r.warmupSteps,
        weightDecay: FINETUNE_DEFAULTS.weightDecay,
        seed,
        checkpointEvery: r.checkpointEvery ?? FINETUNE_DEFAULTS.checkpointEvery,
        keepCheckpoints: r.keepCheckpoints ?? FINETUNE_DEFAULTS.keepCheckpoints,
        workers,
        resume: r.resume ?? false,
        data
      },
      pretrained,
      { train: train.source, eval: { split: evalSplit.split, source: evalSplit.source } },
      ctx
    )
    return { summary, evalSplit: evalSplit.split }
  } finally {
    await train.close()
    await evalSplit.close()
  }
}
