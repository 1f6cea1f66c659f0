/**
 * A fine-tuning request (`equiav finetune`'s flags, or the workbench's fine-tuning form) resolved into the
 * engine's FinetuneOptions (pretrained encoders read from a run or a checkpoint file, class names, the
 * training split and the split evaluated every epoch) and run. One code path for both.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type ModelConfig, PRESETS, type PresetName } from '../engine/config'
import { loadLatestCheckpoint } from '../runs/checkpoints'
import { AnyRunConfigSchema, configPath, FinetuneConfigSchema, readConfig, readFinetuneConfig } from '../runs/config'
import { openRunFolder } from '../runs/run-folder'
import { readCheckpointFile } from '../data/checkpoint-files'
import type { ClassificationResult } from '../engine/finetune/evaluate'
import { type FinetuneSummary, type PretrainedEncoders, runFinetune } from '../engine/finetune/loop'
import type { Reporter } from '../engine/report'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { type FinetuneRequest, SYNTHETIC_CLIPS, WEIGHT_DECAY } from '../../shared/requests'
import { checkName, runDir } from '../workspace'
import { type ClassificationData, classNames, openClassificationSplit, openEpochEvalSplit } from '../data/classification-data'

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
  if (!existsSync(configPath(dir))) throw new Error(`no run "${name}" in ${workspace} (no ${configPath(dir)})`)
  const config = await readConfig(dir, AnyRunConfigSchema)
  const ckpt = await loadLatestCheckpoint(dir)
  if (!ckpt) throw new Error(`run "${name}" has no checkpoint yet (${dir}/checkpoints)`)
  return { model: config.model, preset: config.preset, pretrained: { lineage: { from: name, kind: 'run', step: ckpt.step }, weights: ckpt.weights, layout: 'ours' } }
}

/** An official EquiAV state dict (.pth read safely, or .safetensors). */
async function fromCheckpoint(file: string, preset: PresetName): Promise<Source> {
  const path = resolve(file)
  const weights = await readCheckpointFile(path)
  return { model: PRESETS[preset], preset, pretrained: { lineage: { from: path, kind: 'checkpoint', step: null }, weights, layout: 'official' } }
}

/** The pretrained encoders the request names or, when it resumes without naming them, the run's recorded lineage. */
async function pretrainedSource(workspace: string, r: FinetuneRequest, ftRunDir: string): Promise<Source> {
  if (r.from) return fromRun(workspace, r.from)
  if (r.fromCheckpoint) return fromCheckpoint(r.fromCheckpoint, r.preset ?? 'base')
  if (r.resume && existsSync(configPath(ftRunDir))) {
    const previous = await readFinetuneConfig(ftRunDir)
    return previous.lineage.kind === 'run' ? fromRun(workspace, previous.lineage.from) : fromCheckpoint(previous.lineage.from, previous.preset as PresetName)
  }
  throw new Error('no pretrained encoders: name a pretraining run of the workspace or an official .pth / .safetensors checkpoint')
}

/** Resolves the request, opens its data and fine-tunes; the splits are closed however it ends. */
export async function runFinetuneRequest(workspace: string, r: FinetuneRequest, reporter: Reporter): Promise<FinetuneOutcome> {
  const dir = resolve(runDir(workspace, checkName('run', r.run)))
  const data: ClassificationData = r.dataset ? { kind: 'dataset', name: checkName('dataset', r.dataset) } : { kind: 'synthetic', clips: r.syntheticClips ?? SYNTHETIC_CLIPS }
  const workers = await resolveWorkers(r.workers, r.batchSize)
  const { model, preset, pretrained } = await pretrainedSource(workspace, r, dir)
  const classes = classNames(workspace, data)
  const train = await openClassificationSplit(workspace, data, model, preset, r.seed, 'train')
  const evalSplit = await openEpochEvalSplit(workspace, data, model, preset, r.seed).catch(async (err: unknown) => {
    await train.close()
    throw err
  })
  try {
    const summary = await runFinetune(
      {
        model,
        preset,
        modality: r.modality,
        linearProbe: r.linearProbe,
        loss: r.loss,
        mixup: r.mixup,
        timeRoll: r.timeRoll,
        classes,
        steps: r.steps,
        epochs: r.epochs,
        batchSize: r.batchSize,
        lr: r.lr,
        schedule: r.schedule,
        warmupSteps: r.warmupSteps,
        weightDecay: WEIGHT_DECAY,
        seed: r.seed,
        checkpointEvery: r.checkpointEvery,
        workers,
        resume: r.resume,
        data
      },
      pretrained,
      { train: train.source, eval: { split: evalSplit.split, source: evalSplit.source } },
      openRunFolder(dir, { schema: FinetuneConfigSchema, keepCheckpoints: r.keepCheckpoints, log: (line) => reporter.log(line) }),
      reporter
    )
    return { summary, evalSplit: evalSplit.split }
  } finally {
    await train.close()
    await evalSplit.close()
  }
}
