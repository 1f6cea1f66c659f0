import { type Command, type OptionValues, UsageError, int, num, str } from '../command'
import { terminalJobContext } from '../job-context'
import { resolveWorkspace } from '../../main/workspace'
import type { PresetName } from '../../main/engine/config'
import { FINETUNE_MODALITIES, type FinetuneModality } from '../../main/engine/finetune/model'
import { FINETUNE_LOSSES, type FinetuneLoss } from '../../main/engine/finetune/objective'
import { FINETUNE_DEFAULTS, type LrSchedule } from '../../main/engine/finetune/loop'
import { evalHeadline, runFinetuneRequest } from '../../main/data/finetune-request'

function choice<T extends string>(values: OptionValues, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, name) ?? fallback
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`)
  return v as T
}

export const finetuneCommand: Command = {
  path: ['finetune'],
  summary: 'fine-tune or linearly probe pretrained encoders as a classifier (audio, visual or audio-visual)',
  usage: [
    '  --dataset NAME | --synthetic [--clips N]   training data (train split; evaluated each epoch on val, else test)',
    '  --from RUN                   encoders + final norms of a run\'s newest checkpoint',
    '  --from-checkpoint FILE       … or of an official .pth / .safetensors (with --preset, default base)',
    '  --modality audio|visual|audio-visual       (default audio-visual)',
    '  --linear-probe               freeze the encoders; train only the new heads',
    '  --loss bce|ce                multi-label BCE with mAP (default, official) or first-label CE with top-1/top-5',
    '  --mixup P                    mix a sample with probability P, λ ~ Beta(10,10) (official 0.5; default 0)',
    '  --no-time-roll               keep the training audio in place (default: rolled in time, as the official code)',
    '  --steps N | --epochs N       training length (default 1 epoch)',
    '  --lr LR                      peak learning rate (default 1e-4; 1e-3 with --linear-probe)',
    '  --schedule warmup-cosine|constant          (default warmup-cosine, the official schedule)',
    '  --warmup-steps N             (default one epoch, at most 10% of the steps)',
    '  --batch B                    (default 16; --batch-size is the same)',
    '  --seed N                     (default 0)',
    '  --workers N                  engine worker threads the batch is split over (default: every core on wasm, 1 on tfjs-node)',
    '  --run NAME                   run folder name (default: a timestamp)',
    '  --checkpoint-every N         (default 100)',
    '  --keep-checkpoints N         newest checkpoints kept on disk (default 3; 0 keeps all)',
    '  --resume                     continue the run from its last checkpoint',
    '  --workspace DIR'
  ].join('\n'),
  options: {
    dataset: { type: 'string' },
    synthetic: { type: 'boolean' },
    clips: { type: 'string' },
    from: { type: 'string' },
    'from-checkpoint': { type: 'string' },
    preset: { type: 'string' },
    modality: { type: 'string' },
    'linear-probe': { type: 'boolean' },
    loss: { type: 'string' },
    mixup: { type: 'string' },
    'no-time-roll': { type: 'boolean' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'warmup-steps': { type: 'string' },
    batch: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    run: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'keep-checkpoints': { type: 'string' },
    resume: { type: 'boolean' },
    workspace: { type: 'string' }
  },
  async run(values) {
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const from = str(values, 'from')
    const fromCheckpoint = str(values, 'from-checkpoint')
    if (!from && !fromCheckpoint && !values.resume) throw new UsageError('give --from RUN (a pretraining run of the workspace) or --from-checkpoint FILE (.pth or .safetensors)')
    const { ctx, dispose } = terminalJobContext('finetune')
    try {
      const { summary, evalSplit } = await runFinetuneRequest(
        {
          workspace: resolveWorkspace(str(values, 'workspace')),
          run: str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'),
          dataset,
          syntheticClips: int(values, 'clips'),
          from,
          fromCheckpoint,
          preset: str(values, 'preset') as PresetName | undefined,
          modality: choice<FinetuneModality>(values, 'modality', FINETUNE_MODALITIES, 'audio-visual'),
          linearProbe: Boolean(values['linear-probe']),
          loss: choice<FinetuneLoss>(values, 'loss', FINETUNE_LOSSES, FINETUNE_DEFAULTS.loss),
          mixup: num(values, 'mixup'),
          timeRoll: !values['no-time-roll'],
          steps: int(values, 'steps'),
          epochs: int(values, 'epochs'),
          batchSize: int(values, 'batch') ?? int(values, 'batch-size'),
          lr: num(values, 'lr'),
          schedule: choice<LrSchedule>(values, 'schedule', ['warmup-cosine', 'constant'], FINETUNE_DEFAULTS.schedule),
          warmupSteps: int(values, 'warmup-steps'),
          seed: int(values, 'seed'),
          checkpointEvery: int(values, 'checkpoint-every'),
          keepCheckpoints: int(values, 'keep-checkpoints'),
          workers: int(values, 'workers'),
          resume: Boolean(values.resume)
        },
        ctx
      )
      const l = summary.last
      const e = summary.lastEval
      const evalText = e ? ` — ${evalSplit} ${evalHeadline(e)}` : ''
      process.stderr.write(`${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}${l ? ` — loss ${l.loss.toFixed(4)}` : ''}${evalText}\n`)
      return summary.cancelled ? 130 : 0
    } finally {
      dispose()
    }
  }
}
