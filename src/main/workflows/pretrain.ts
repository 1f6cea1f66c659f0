/**
 * A pretraining request (`equiav pretrain`'s flags, or the workbench's Train form) run: the model from its
 * preset and overrides, the clips of a prepared dataset or of the synthetic task, the encoders it starts
 * from, the run folder, and the engine's pretraining.
 */
import { resolve } from 'node:path'
import { type ModelConfig, PRESETS } from '../engine/config'
import type { Modality } from '../engine/model'
import type { Reporter } from '../engine/report'
import { DEFAULT_LOSS_WEIGHTS } from '../engine/losses'
import { type PretrainOptions, type PretrainSummary, runPretrain } from '../engine/train/pretrain'
import type { GuardSettings } from '../engine/train/guard'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { syntheticSource } from '../engine/train/synthetic-source'
import { checkPrepared, datasetModel, openDatasetSource } from '../data/dataset-source'
import { PretrainConfigSchema } from '../runs/config'
import { openRunFolder } from '../runs/run-folder'
import { runDir } from '../workspace'
import { type PretrainRequest, SYNTHETIC_CLIPS, WEIGHT_DECAY } from '../../shared/requests'
import { readEncoderSource } from './encoders'

/** The engine's pretraining options a request sets, on a model whose input statistics are resolved (`model`). */
export function trainingOptions(r: PretrainRequest, model: ModelConfig): Omit<PretrainOptions, 'data' | 'init' | 'workers'> {
  return {
    preset: r.preset,
    model: { ...modelOverrides(r), inputNorm: model.inputNorm },
    objective: r.objective,
    steps: r.steps,
    epochs: r.epochs,
    batchSize: r.batchSize,
    lr: r.lr,
    warmupSteps: r.warmupSteps,
    weightDecay: WEIGHT_DECAY,
    clipNorm: r.clipNorm,
    tau: r.tau,
    lossWeights: DEFAULT_LOSS_WEIGHTS,
    timeRoll: r.timeRoll,
    seed: r.seed,
    checkpointEvery: r.checkpointEvery,
    resume: r.resume
  }
}

/** S and the frame side, where the request changes the preset's. */
const modelOverrides = (r: PretrainRequest): Partial<ModelConfig> => ({ ...(r.cenNum ? { cenNum: r.cenNum } : {}), ...(r.imgSize ? { imgSize: r.imgSize } : {}) })

/** The model a request trains: its preset with its overrides, and the dataset's input statistics where it has them. */
export function requestModel(workspace: string, r: PretrainRequest): ModelConfig {
  const presetModel = { ...PRESETS[r.preset], ...modelOverrides(r) }
  return r.dataset ? datasetModel(workspace, r.dataset, presetModel, r.inputNorm) : presetModel
}

/**
 * What refuses a request before anything runs: a dataset that does not exist, is not prepared for the
 * request's model, or only partly (unless `allowPartial`); each message starts with the field it is about.
 */
export async function checkPretrainRequest(workspace: string, r: PretrainRequest): Promise<void> {
  if (!r.dataset) return
  try {
    await checkPrepared(workspace, r.dataset, requestModel(workspace, r), 'train', r.preset, r.allowPartial ?? false)
  } catch (err) {
    throw new Error(`dataset: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** What a pretraining request runs with besides its fields: the training guard's settings (`equiav pretrain`'s flags). */
export interface PretrainRunOptions {
  /** default GUARD_DEFAULTS */
  guard?: GuardSettings
}

export async function runPretrainRequest(workspace: string, r: PretrainRequest, reporter: Reporter, o: PretrainRunOptions = {}): Promise<PretrainSummary> {
  const model = requestModel(workspace, r)
  const workers = await resolveWorkers(r.workers, r.batchSize)
  const clips = r.syntheticClips ?? SYNTHETIC_CLIPS
  const modalities: Modality[] = [...new Set(r.initModalities)].map((m) => (m === 'audio' ? 'a' : 'v'))
  const init = r.initFrom ? { ...(await readEncoderSource(workspace, r.initFrom)), modalities } : undefined
  const opened = r.dataset ? await openDatasetSource(workspace, r.dataset, model, 'train', r.preset, r.allowPartial ?? false) : null
  try {
    const store = openRunFolder(resolve(runDir(workspace, r.run)), { schema: PretrainConfigSchema, keepCheckpoints: r.keepCheckpoints, log: (line) => reporter.log(line) })
    return await runPretrain(
      { ...trainingOptions(r, model), workers, guard: o.guard, data: r.dataset ? { kind: 'dataset', name: r.dataset } : { kind: 'synthetic', clips }, init },
      opened ? opened.source : syntheticSource(clips, r.seed, model),
      store,
      reporter
    )
  } finally {
    await opened?.close()
  }
}
