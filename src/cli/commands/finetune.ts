import { resolve } from 'node:path'
import { type Command, type FieldFlags, fieldOptions, fieldValues, optionSpec, UsageError, int, num, parseFlags, str } from '../command'
import { withTerminalJob } from '../job-context'
import { resolveWorkspace } from '../../main/workspace'
import { evalHeadline, runFinetuneRequest } from '../../main/workflows/finetune'
import { FINETUNE_MODALITIES, FinetuneRequestSchema, LR_SCHEDULES } from '../../shared/requests'

const FINETUNE_FIELDS: FieldFlags = {
  from: str, preset: str, modality: str, loss: str, mixup: num, steps: int, epochs: int, lr: num, schedule: str,
  warmupSteps: int, seed: int, checkpointEvery: int, keepCheckpoints: int, workers: int
}

export const finetuneCommand: Command = {
  path: ['finetune'],
  summary: 'fine-tune or linearly probe pretrained encoders as a classifier (audio, visual or audio-visual)',
  usage: [
    '  --dataset NAME | --synthetic [--clips N]   training data (train split; evaluated each epoch on val, else test)',
    '  --from RUN                   encoders + final norms of a run\'s newest checkpoint',
    '  --from-checkpoint FILE       … or of an official .pth / .safetensors (with --preset, default base)',
    `  --modality ${FINETUNE_MODALITIES.join('|')}       (default audio-visual)`,
    '  --linear-probe               freeze the encoders; train only the new heads',
    '  --loss bce|ce                multi-label BCE with mAP (default, official) or first-label CE with top-1/top-5',
    '  --mixup P                    mix a sample with probability P, λ ~ Beta(10,10) (official 0.5; default 0)',
    '  --no-time-roll               keep the training audio in place (default: rolled in time, as the official code)',
    '  --steps N | --epochs N       training length (default 1 epoch)',
    '  --lr LR                      peak learning rate (default 1e-4; 1e-3 with --linear-probe)',
    `  --schedule ${LR_SCHEDULES.join('|')}          (default warmup-cosine, the official schedule)`,
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
  options: { ...fieldOptions(FINETUNE_FIELDS), ...optionSpec(['dataset', 'clips', 'from-checkpoint', 'batch', 'batch-size', 'run', 'workspace'], ['synthetic', 'linear-probe', 'no-time-roll', 'resume']) },
  async run(values) {
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const from = str(values, 'from')
    if (!from && !str(values, 'from-checkpoint') && !values.resume) throw new UsageError('give --from RUN (a pretraining run of the workspace) or --from-checkpoint FILE (.pth or .safetensors)')
    const fromFile = str(values, 'from-checkpoint')
    const request = parseFlags(
      FinetuneRequestSchema,
      {
        ...fieldValues(values, FINETUNE_FIELDS),
        run: str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'),
        dataset,
        syntheticClips: int(values, 'clips'),
        fromCheckpoint: fromFile === undefined ? undefined : resolve(fromFile),
        linearProbe: Boolean(values['linear-probe']),
        timeRoll: !values['no-time-roll'],
        batchSize: int(values, 'batch') ?? int(values, 'batch-size'),
        resume: Boolean(values.resume)
      },
      { syntheticClips: 'clips' }
    )
    const { summary, evalSplit } = await withTerminalJob('finetune', (ctx) => runFinetuneRequest(resolveWorkspace(str(values, 'workspace')), request, ctx))
    const l = summary.last
    const e = summary.lastEval
    const evalText = e ? ` — ${evalSplit} ${evalHeadline(e)}` : ''
    process.stderr.write(`${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}${l ? ` — loss ${l.loss.toFixed(4)}` : ''}${evalText}\n`)
    return summary.cancelled ? 130 : 0
  }
}
