import { resolve } from 'node:path'
import { type Command, UsageError, int, str } from '../command'
import { terminalJobContext } from '../job-context'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { PRESETS } from '../../main/engine/config'
import { runPretrain } from '../../main/engine/train/pretrain'
import { syntheticSource } from '../../main/engine/train/synthetic-source'
import { datasetModel, openDatasetSource } from '../../main/data/dataset-source'
import { readEncoderSource } from '../../main/data/encoder-source'
import type { Modality } from '../../main/engine/model'
import { inputNormChoice } from './model-options'
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingChoices } from './training-options'

/** --init-modalities audio,visual → ['a', 'v'] */
function initModalities(text = 'audio,visual'): Modality[] {
  const names = text.split(',').map((w) => w.trim())
  const bad = names.filter((w) => w !== 'audio' && w !== 'visual')
  if (bad.length || names.length === 0) throw new UsageError(`--init-modalities takes audio, visual or audio,visual (got ${text})`)
  return [...new Set(names)].map((w) => (w === 'audio' ? 'a' : 'v'))
}

export const pretrainCommand: Command = {
  path: ['pretrain'],
  summary: 'pretrain EquiAV encoders (synthetic task or a prepared dataset)',
  usage: [
    ...TRAINING_USAGE,
    '  --workspace DIR              (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --run NAME                   run folder name (default: a timestamp)',
    '  --resume                     continue the run from its last checkpoint',
    '  --init-from RUN|FILE         start the encoders from a run of the workspace or a checkpoint (.pth / .safetensors:',
    '                               an EquiAV state dict, or a single ViT such as MAE\'s mae_pretrain_vit_base.pth, as the paper)',
    '  --init-modalities audio,visual   which encoders --init-from sets (default both)',
    '  --synthetic [--clips N]      a generated task with known correspondence (default 256 clips)',
    '  --dataset NAME               a prepared dataset of the workspace'
  ].join('\n'),
  options: {
    ...TRAINING_OPTIONS,
    'init-from': { type: 'string' },
    'init-modalities': { type: 'string' },
    workspace: { type: 'string' },
    run: { type: 'string' },
    resume: { type: 'boolean' },
    synthetic: { type: 'boolean' },
    clips: { type: 'string' },
    dataset: { type: 'string' }
  },
  async run(values) {
    const { overrides, ...training } = trainingChoices(values)
    const { preset, seed } = training
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const run = checkName('run', str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'))
    const presetModel = { ...PRESETS[preset], ...overrides }
    const model = dataset ? datasetModel(workspace, checkName('dataset', dataset), presetModel, inputNormChoice(values)) : presetModel
    const clips = int(values, 'clips') ?? 256
    const opened = dataset ? await openDatasetSource(workspace, checkName('dataset', dataset), model, 'train', preset) : null
    const source = opened ? opened.source : syntheticSource(clips, seed, model)
    const initFrom = str(values, 'init-from')
    const modalities = initModalities(str(values, 'init-modalities'))
    const init = initFrom ? { ...(await readEncoderSource(workspace, initFrom)), modalities } : undefined
    const { ctx, dispose } = terminalJobContext('pretrain')
    try {
      const summary = await runPretrain(
        {
          ...training,
          runDir: resolve(runDir(workspace, run)),
          model: { ...overrides, inputNorm: model.inputNorm },
          resume: Boolean(values.resume),
          data: dataset ? { kind: 'dataset', name: dataset } : { kind: 'synthetic', clips },
          init
        },
        source,
        ctx
      )
      const l = summary.last
      process.stderr.write(
        `${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}` +
          (l ? ` — loss ${l.loss.toFixed(4)} (inter ${l.loss_inter.toFixed(4)}, intra_a ${l.loss_intra_a.toFixed(4)}, intra_v ${l.loss_intra_v.toFixed(4)})` : '') +
          '\n'
      )
      return summary.cancelled ? 130 : 0
    } finally {
      dispose()
      await opened?.close()
    }
  }
}
