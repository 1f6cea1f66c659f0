import { resolve } from 'node:path'
import { type Command, type OptionValues, UsageError, int, num, str } from '../command'
import { terminalJobContext } from '../job-context'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { PRESETS } from '../../main/engine/config'
import { runPretrain } from '../../main/engine/train/pretrain'
import { type CollapseAction, GUARD_DEFAULTS, type GuardSettings } from '../../main/engine/train/guard'
import { syntheticSource } from '../../main/engine/train/synthetic-source'
import { datasetModel, openDatasetSource } from '../../main/data/dataset-source'
import { readEncoderSource } from '../../main/data/encoder-source'
import type { Modality } from '../../main/engine/model'
import { resolveWorkers } from '../../main/engine/train/parallel/stepper'
import { inputNormChoice } from './model-options'
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingChoices } from './training-options'

/** --init-modalities audio,visual → ['a', 'v'] */
function initModalities(text = 'audio,visual'): Modality[] {
  const names = text.split(',').map((w) => w.trim())
  const bad = names.filter((w) => w !== 'audio' && w !== 'visual')
  if (bad.length || names.length === 0) throw new UsageError(`--init-modalities takes audio, visual or audio,visual (got ${text})`)
  return [...new Set(names)].map((w) => (w === 'audio' ? 'a' : 'v'))
}

const COLLAPSE_ACTIONS: CollapseAction[] = ['stop', 'warn', 'off']

/** --on-collapse, --collapse-window, --collapse-spread, --max-norm-growth → the training guard's settings */
function guardOptions(values: OptionValues): GuardSettings {
  const d = GUARD_DEFAULTS
  const action = (str(values, 'on-collapse') ?? d.collapse.action) as CollapseAction
  if (!COLLAPSE_ACTIONS.includes(action)) throw new UsageError(`--on-collapse takes ${COLLAPSE_ACTIONS.join(', ')} (got ${action})`)
  const window = int(values, 'collapse-window') ?? d.collapse.window
  const spread = num(values, 'collapse-spread') ?? d.collapse.spread
  const maxNormGrowth = num(values, 'max-norm-growth') ?? d.maxNormGrowth
  if (window < 1) throw new UsageError('--collapse-window must be at least 1')
  if (!(spread > 0 && spread <= 1)) throw new UsageError('--collapse-spread must be in (0, 1]')
  if (maxNormGrowth < 0) throw new UsageError('--max-norm-growth must be 0 (no check) or more')
  return { maxNormGrowth, collapse: { ...d.collapse, action, window, spread } }
}

export const pretrainCommand: Command = {
  path: ['pretrain'],
  summary: 'pretrain EquiAV encoders (synthetic task or a prepared dataset)',
  usage: [
    ...TRAINING_USAGE,
    '  --workers N                  engine worker threads the batch is split over (default: every core on wasm, 1 on tfjs-node)',
    '  --workspace DIR              (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --run NAME                   run folder name (default: a timestamp)',
    '  --resume                     continue the run from its newest intact checkpoint (a corrupt one is skipped, saying why);',
    '                               a --lr given with it applies from there on and is recorded in config.json',
    '  --on-collapse stop|warn|off  when loss_inter sits at ln B with embedding spread above --collapse-spread (default 0.99)',
    '                               for --collapse-window steps (default 100): stop the run (default), log a warning, or ignore it',
    '  --max-norm-growth X          stop when one update grows the parameter norm more than X times (default 10; 0: no check);',
    '                               a non-finite loss or parameter always stops the run, and nothing of the bad step is checkpointed',
    '  --allow-partial              train on the clips cached so far when `dataset prepare` has not finished',
    '  --init-from RUN|FILE         start the encoders from a run of the workspace or a checkpoint (.pth / .safetensors:',
    '                               an EquiAV state dict, or a single ViT such as MAE\'s mae_pretrain_vit_base.pth, as the paper)',
    '  --init-modalities audio,visual   which encoders --init-from sets (default both)',
    '  --synthetic [--clips N]      a generated task with known correspondence (default 256 clips)',
    '  --dataset NAME               a prepared dataset of the workspace'
  ].join('\n'),
  options: {
    ...TRAINING_OPTIONS,
    workers: { type: 'string' },
    'init-from': { type: 'string' },
    'init-modalities': { type: 'string' },
    workspace: { type: 'string' },
    run: { type: 'string' },
    resume: { type: 'boolean' },
    'on-collapse': { type: 'string' },
    'collapse-window': { type: 'string' },
    'collapse-spread': { type: 'string' },
    'max-norm-growth': { type: 'string' },
    'allow-partial': { type: 'boolean' },
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
    const opened = dataset ? await openDatasetSource(workspace, checkName('dataset', dataset), model, 'train', preset, Boolean(values['allow-partial'])) : null
    const source = opened ? opened.source : syntheticSource(clips, seed, model)
    const guard = guardOptions(values)
    const initFrom = str(values, 'init-from')
    const modalities = initModalities(str(values, 'init-modalities'))
    const init = initFrom ? { ...(await readEncoderSource(workspace, initFrom)), modalities } : undefined
    const workers = await resolveWorkers(int(values, 'workers'), training.batchSize)
    const { ctx, dispose } = terminalJobContext('pretrain')
    try {
      const summary = await runPretrain(
        {
          ...training,
          runDir: resolve(runDir(workspace, run)),
          model: { ...overrides, inputNorm: model.inputNorm },
          // only a --lr given here changes a resumed run's; a new run without one gets the preset's default
          lr: num(values, 'lr'),
          guard,
          workers,
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
