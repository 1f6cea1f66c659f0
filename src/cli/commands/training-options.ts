/** The pretraining hyperparameter flags, shared by `equiav pretrain` and `equiav cluster export`: they become fields of the pretraining request. */
import { type FieldFlags, fieldOptions, fieldValues, type OptionValues, int, num, optionSpec, str } from '../command'
import { DEFAULT_LR, OBJECTIVES, PRESET_NAMES } from '../../shared/requests'

export const TRAINING_USAGE = [
  `  --preset ${PRESET_NAMES.join('|')}     model size (default tiny)`,
  `  --objective ${OBJECTIVES.join('|')}   (default equiav)`,
  '  --cen-num S                  centroid samples S (default 16)',
  '  --img-size N                 frame side in pixels, a multiple of 16 (default: the preset\'s; prepare the dataset with the same)',
  '  --steps N | --epochs N       training length (default 1 epoch; --steps 0 saves the initialisation, a baseline for probes)',
  '  --batch-size B               (default 16)',
  `  --lr LR                      peak learning rate (default ${DEFAULT_LR.tiny} for tiny, ${DEFAULT_LR.base} otherwise)`,
  '  --warmup-steps N             (default 10% of the steps)',
  '  --clip-norm X                gradient-norm clip (default 0.01, as the official code)',
  '  --tau T                      temperature of both losses (default 0.07)',
  '  --no-time-roll               keep the audio in place (default: roll it circularly in time, the official noise=True)',
  '  --seed N                     (default 0)',
  '  --checkpoint-every N         steps between checkpoints (default 100)',
  '  --keep-checkpoints N         newest checkpoints kept on disk (default 3; 0 keeps all)',
  '  --input-norm dataset|official   input statistics (default: the dataset\'s own when `dataset norm-stats` stored them, else AudioSet / ImageNet)'
]

const TRAINING_FIELDS: FieldFlags = {
  preset: str, objective: str, cenNum: int, imgSize: int, steps: int, epochs: int, batchSize: int, lr: num, warmupSteps: int,
  clipNorm: num, tau: num, seed: int, checkpointEvery: int, keepCheckpoints: int, inputNorm: str
}

export const TRAINING_OPTIONS = { ...fieldOptions(TRAINING_FIELDS), ...optionSpec([], ['no-time-roll']) }

/** The request fields these flags give (absent flags: the schema's defaults). */
export const trainingFlags = (values: OptionValues): Record<string, unknown> => ({ ...fieldValues(values, TRAINING_FIELDS), timeRoll: !values['no-time-roll'] })
