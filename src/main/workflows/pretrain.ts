/**
 * A pretraining request (`equiav pretrain`'s flags, or the workbench's Train form) run: the model from its
 * preset and overrides, the clips of a prepared dataset or of the synthetic task, the encoders it starts
 * from, the run folder, and the engine's pretraining.
 */
import { resolve } from 'node:path'
import { PRESETS } from '../engine/config'
import type { Modality } from '../engine/model'
import type { Reporter } from '../engine/report'
import { DEFAULT_LOSS_WEIGHTS } from '../engine/losses'
import { type PretrainSummary, runPretrain } from '../engine/train/pretrain'
import { syntheticSource } from '../engine/train/synthetic-source'
import { datasetModel, openDatasetSource } from '../data/dataset-source'
import { PretrainConfigSchema } from '../runs/config'
import { openRunFolder } from '../runs/run-folder'
import { runDir } from '../workspace'
import { type PretrainRequest, SYNTHETIC_CLIPS, WEIGHT_DECAY } from '../../shared/requests'
import { readEncoderSource } from './encoders'

export async function runPretrainRequest(workspace: string, r: PretrainRequest, reporter: Reporter): Promise<PretrainSummary> {
  const overrides = { ...(r.cenNum ? { cenNum: r.cenNum } : {}), ...(r.imgSize ? { imgSize: r.imgSize } : {}) }
  const presetModel = { ...PRESETS[r.preset], ...overrides }
  const model = r.dataset ? datasetModel(workspace, r.dataset, presetModel, r.inputNorm) : presetModel
  const clips = r.syntheticClips ?? SYNTHETIC_CLIPS
  const modalities: Modality[] = [...new Set(r.initModalities)].map((m) => (m === 'audio' ? 'a' : 'v'))
  const init = r.initFrom ? { ...(await readEncoderSource(workspace, r.initFrom)), modalities } : undefined
  const opened = r.dataset ? await openDatasetSource(workspace, r.dataset, model, 'train', r.preset) : null
  try {
    const store = openRunFolder(resolve(runDir(workspace, r.run)), { schema: PretrainConfigSchema, keepCheckpoints: r.keepCheckpoints, log: (line) => reporter.log(line) })
    return await runPretrain(
      {
        preset: r.preset,
        model: { ...overrides, inputNorm: model.inputNorm },
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
        resume: r.resume,
        data: r.dataset ? { kind: 'dataset', name: r.dataset } : { kind: 'synthetic', clips },
        init
      },
      opened ? opened.source : syntheticSource(clips, r.seed, model),
      store,
      reporter
    )
  } finally {
    await opened?.close()
  }
}
