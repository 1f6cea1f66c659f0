import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Command, UsageError, int, num, parseFlags, str } from '../command'
import { terminalJobContext } from '../job-context'
import { resolveWorkspace, runDir } from '../../main/workspace'
import { runPretrainRequest } from '../../main/workflows/pretrain'
import { DEFAULT_LR, INIT_MODALITIES, OBJECTIVES, PRESET_NAMES, PretrainRequestSchema } from '../../shared/requests'

/** --init-from: a run of the workspace by name, else a checkpoint file, made absolute as the request wants it. */
function initFromOption(workspace: string, from: string | undefined): string | undefined {
  if (from === undefined) return undefined
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(from) && existsSync(runDir(workspace, from)) ? from : resolve(from)
}

/** --init-modalities audio,visual → ['audio', 'visual'] */
function initModalities(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined
  const names = text.split(',').map((w) => w.trim())
  if (names.some((w) => !(INIT_MODALITIES as readonly string[]).includes(w))) throw new UsageError(`--init-modalities takes audio, visual or audio,visual (got ${text})`)
  return names
}

export const pretrainCommand: Command = {
  path: ['pretrain'],
  summary: 'pretrain EquiAV encoders (synthetic task or a prepared dataset)',
  usage: [
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
    '  --workspace DIR              (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --run NAME                   run folder name (default: a timestamp)',
    '  --checkpoint-every N         steps between checkpoints (default 100)',
    '  --keep-checkpoints N         newest checkpoints kept on disk (default 3; 0 keeps all)',
    '  --resume                     continue the run from its last checkpoint',
    '  --init-from RUN|FILE         start the encoders from a run of the workspace or a checkpoint (.pth / .safetensors:',
    '                               an EquiAV state dict, or a single ViT such as MAE\'s mae_pretrain_vit_base.pth, as the paper)',
    '  --init-modalities audio,visual   which encoders --init-from sets (default both)',
    '  --synthetic [--clips N]      a generated task with known correspondence (default 256 clips)',
    '  --dataset NAME               a prepared dataset of the workspace',
    '  --input-norm dataset|official   input statistics (default: the dataset\'s own when `dataset norm-stats` stored them, else AudioSet / ImageNet)'
  ].join('\n'),
  options: {
    'input-norm': { type: 'string' },
    'init-from': { type: 'string' },
    'keep-checkpoints': { type: 'string' },
    'init-modalities': { type: 'string' },
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
    workspace: { type: 'string' },
    run: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    resume: { type: 'boolean' },
    synthetic: { type: 'boolean' },
    clips: { type: 'string' },
    dataset: { type: 'string' }
  },
  async run(values) {
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const request = parseFlags(PretrainRequestSchema, {
      run: str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'),
      preset: str(values, 'preset'),
      objective: str(values, 'objective'),
      cenNum: int(values, 'cen-num'),
      imgSize: int(values, 'img-size'),
      steps: int(values, 'steps'),
      epochs: int(values, 'epochs'),
      batchSize: int(values, 'batch-size'),
      lr: num(values, 'lr'),
      warmupSteps: int(values, 'warmup-steps'),
      clipNorm: num(values, 'clip-norm'),
      tau: num(values, 'tau'),
      timeRoll: !values['no-time-roll'],
      seed: int(values, 'seed'),
      checkpointEvery: int(values, 'checkpoint-every'),
      keepCheckpoints: int(values, 'keep-checkpoints'),
      resume: Boolean(values.resume),
      dataset,
      syntheticClips: int(values, 'clips'),
      inputNorm: str(values, 'input-norm'),
      initFrom: initFromOption(workspace, str(values, 'init-from')),
      initModalities: initModalities(str(values, 'init-modalities'))
    }, { syntheticClips: 'clips' })
    const { ctx, dispose } = terminalJobContext('pretrain')
    try {
      const summary = await runPretrainRequest(workspace, request, ctx)
      const l = summary.last
      process.stderr.write(
        `${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}` +
          (l ? ` — loss ${l.loss.toFixed(4)} (inter ${l.loss_inter.toFixed(4)}, intra_a ${l.loss_intra_a.toFixed(4)}, intra_v ${l.loss_intra_v.toFixed(4)})` : '') +
          '\n'
      )
      return summary.cancelled ? 130 : 0
    } finally {
      dispose()
    }
  }
}
