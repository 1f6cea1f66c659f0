/** The pretraining hyperparameter options, shared by `equiav pretrain` and `equiav cluster export`. */
import { type OptionSpec, type OptionValues, UsageError, int, num, str } from '../command'
import { PRESETS, type ModelConfig, type PresetName } from '../../main/engine/config'
import type { Objective } from '../../main/engine/types'
import { PRETRAIN_DEFAULTS, type PretrainOptions, defaultLr } from '../../main/engine/train/pretrain'
import { imgSizeOption } from './model-options'

const OBJECTIVES: Objective[] = ['equiav', 'invariant', 'inter-only']

export const TRAINING_USAGE = [
  '  --preset tiny|small|base     model size (default tiny)',
  '  --objective equiav|invariant|inter-only   (default equiav)',
  '  --cen-num S                  centroid samples S (default 16)',
  '  --img-size N                 frame side in pixels, a multiple of 16 (default: the preset\'s; prepare the dataset with the same)',
  '  --steps N | --epochs N       training length (default 1 epoch; --steps 0 saves the initialisation, a baseline for probes)',
  '  --batch-size B               (default 16)',
  '  --lr LR                      peak learning rate (default 1e-4; tiny: 5e-4)',
  '  --warmup-steps N             (default 10% of the steps)',
  '  --clip-norm X                gradient-norm clip (default 0.01, as the official code)',
  '  --tau T                      temperature of both losses (default 0.07)',
  '  --no-time-roll               keep the audio in place (default: roll it circularly in time, the official noise=True)',
  '  --seed N                     (default 0)',
  '  --checkpoint-every N         steps between checkpoints (default 100)',
  '  --keep-checkpoints N         newest checkpoints kept on disk (default 3; 0 keeps all)',
  '  --input-norm dataset|official   input statistics (default: the dataset\'s own when `dataset norm-stats` stored them, else AudioSet / ImageNet)'
]

export const TRAINING_OPTIONS: OptionSpec = {
  'input-norm': { type: 'string' },
  'keep-checkpoints': { type: 'string' },
  preset: { type: 'string' },
  objective: { type: 'string' },
  'cen-num': { type: 'string' },
  'img-size': { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'warmup-steps': { type: 'string' },
  'clip-norm': { type: 'string' },
  tau: { type: 'string' },
  'no-time-roll': { type: 'boolean' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' }
}

/** Everything of PretrainOptions the options decide (the run folder, data and resume come from elsewhere). */
export type TrainingChoices = Omit<PretrainOptions, 'runDir' | 'resume' | 'data' | 'init' | 'model'> & {
  /** overrides on the preset (S, frame size); the input statistics are added once the data is known */
  overrides: Partial<ModelConfig>
}

export function trainingChoices(values: OptionValues): TrainingChoices {
  const preset = (str(values, 'preset') ?? 'tiny') as PresetName
  if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
  const objective = (str(values, 'objective') ?? PRETRAIN_DEFAULTS.objective) as Objective
  if (!OBJECTIVES.includes(objective)) throw new UsageError(`--objective must be one of ${OBJECTIVES.join(', ')}`)
  const cenNum = int(values, 'cen-num')
  return {
    preset,
    objective,
    overrides: { ...(cenNum ? { cenNum } : {}), ...imgSizeOption(values) },
    steps: int(values, 'steps'),
    epochs: int(values, 'epochs'),
    batchSize: int(values, 'batch-size') ?? PRETRAIN_DEFAULTS.batchSize,
    lr: num(values, 'lr') ?? defaultLr(preset),
    warmupSteps: int(values, 'warmup-steps'),
    weightDecay: PRETRAIN_DEFAULTS.weightDecay,
    clipNorm: num(values, 'clip-norm') ?? PRETRAIN_DEFAULTS.clipNorm,
    tau: num(values, 'tau') ?? PRETRAIN_DEFAULTS.tau,
    lossWeights: PRETRAIN_DEFAULTS.lossWeights,
    timeRoll: !values['no-time-roll'],
    seed: int(values, 'seed') ?? PRETRAIN_DEFAULTS.seed,
    checkpointEvery: int(values, 'checkpoint-every') ?? PRETRAIN_DEFAULTS.checkpointEvery,
    keepCheckpoints: int(values, 'keep-checkpoints') ?? PRETRAIN_DEFAULTS.keepCheckpoints
  }
}
