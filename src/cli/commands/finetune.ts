import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import { type Command, type OptionValues, UsageError, int, num, str } from '../command'
import { terminalJobContext } from '../job-context'
import { type ClassificationData, classNames, openClassificationSplit, openEpochEvalSplit } from '../classification-data'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { type ModelConfig, PRESETS, type PresetName, withInputNorm } from '../../main/engine/config'
import { loadLatestCheckpoint } from '../../main/engine/checkpoint/store'
import { readPth } from '../../main/engine/checkpoint/pth'
import { readSafetensors } from '../../main/engine/checkpoint/safetensors'
import { FINETUNE_MODALITIES, type FinetuneModality } from '../../main/engine/finetune/model'
import { FINETUNE_LOSSES, type FinetuneLoss } from '../../main/engine/finetune/objective'
import { FINETUNE_DEFAULTS, type FinetuneRunConfig, type LrSchedule, type PretrainedEncoders, runFinetune } from '../../main/engine/finetune/loop'

interface Source {
  pretrained: PretrainedEncoders
  model: ModelConfig
  preset: string
}

/** --from RUN: the newest checkpoint of a run of the workspace (pretraining, or another fine-tuning run). */
async function fromRun(workspace: string, name: string): Promise<Source> {
  const dir = runDir(workspace, checkName('run', name))
  const configPath = join(dir, 'config.json')
  if (!existsSync(configPath)) throw new Error(`no run "${name}" in ${workspace} (no ${configPath})`)
  const config = JSON.parse(await readFile(configPath, 'utf8')) as { model: ModelConfig; preset: string }
  const ckpt = await loadLatestCheckpoint(dir)
  if (!ckpt) throw new Error(`run "${name}" has no checkpoint yet (${dir}/checkpoints)`)
  return { model: withInputNorm(config.model), preset: config.preset, pretrained: { lineage: { from: name, kind: 'run', step: ckpt.step }, weights: ckpt.weights, layout: 'ours' } }
}

/** --from-checkpoint FILE: an official EquiAV state dict (.pth read safely, or .safetensors). */
async function fromCheckpoint(file: string, preset: PresetName): Promise<Source> {
  const path = resolve(file)
  if (!existsSync(path)) throw new Error(`${path}: no such checkpoint file`)
  const ext = extname(path).toLowerCase()
  if (ext !== '.pth' && ext !== '.pt' && ext !== '.safetensors') throw new Error(`${path}: expected a .pth or .safetensors checkpoint`)
  const weights = ext === '.safetensors' ? await readSafetensors(path) : await readPth(path)
  return { model: PRESETS[preset], preset, pretrained: { lineage: { from: path, kind: 'checkpoint', step: null }, weights, layout: 'official' } }
}

/** The pretrained encoders, from the flags or, for --resume without them, from the run's recorded lineage. */
async function pretrainedSource(values: OptionValues, workspace: string, ftRunDir: string): Promise<Source> {
  const from = str(values, 'from')
  const file = str(values, 'from-checkpoint')
  if (from && file) throw new UsageError('give one of --from RUN or --from-checkpoint FILE, not both')
  const preset = (str(values, 'preset') ?? 'base') as PresetName
  if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
  if (from) return fromRun(workspace, from)
  if (file) return fromCheckpoint(file, preset)
  const configPath = join(ftRunDir, 'config.json')
  if (values.resume && existsSync(configPath)) {
    const previous = JSON.parse(await readFile(configPath, 'utf8')) as FinetuneRunConfig
    return previous.lineage.kind === 'run' ? fromRun(workspace, previous.lineage.from) : fromCheckpoint(previous.lineage.from, previous.preset as PresetName)
  }
  throw new UsageError('give --from RUN (a pretraining run of the workspace) or --from-checkpoint FILE (.pth or .safetensors)')
}

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
    '  --steps N | --epochs N       training length (default 1 epoch)',
    '  --lr LR                      peak learning rate (default 1e-4; 1e-3 with --linear-probe)',
    '  --schedule warmup-cosine|constant          (default warmup-cosine, the official schedule)',
    '  --warmup-steps N             (default one epoch, at most 10% of the steps)',
    '  --batch B                    (default 16; --batch-size is the same)',
    '  --seed N                     (default 0)',
    '  --run NAME                   run folder name (default: a timestamp)',
    '  --checkpoint-every N         (default 100)',
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
    steps: { type: 'string' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'warmup-steps': { type: 'string' },
    batch: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    run: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    resume: { type: 'boolean' },
    workspace: { type: 'string' }
  },
  async run(values) {
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const modality = choice<FinetuneModality>(values, 'modality', FINETUNE_MODALITIES, 'audio-visual')
    const loss = choice<FinetuneLoss>(values, 'loss', FINETUNE_LOSSES, FINETUNE_DEFAULTS.loss)
    const schedule = choice<LrSchedule>(values, 'schedule', ['warmup-cosine', 'constant'], FINETUNE_DEFAULTS.schedule)
    const mixup = num(values, 'mixup') ?? 0
    if (mixup < 0 || mixup > 1) throw new UsageError(`--mixup is a probability in [0, 1], got ${mixup}`)
    const linearProbe = Boolean(values['linear-probe'])
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const run = checkName('run', str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'))
    const dir = resolve(runDir(workspace, run))
    const seed = int(values, 'seed') ?? FINETUNE_DEFAULTS.seed
    const data: ClassificationData = dataset ? { kind: 'dataset', name: checkName('dataset', dataset) } : { kind: 'synthetic', clips: int(values, 'clips') ?? 256 }
    const { model, preset, pretrained } = await pretrainedSource(values, workspace, dir)
    const classes = classNames(workspace, data)
    const train = await openClassificationSplit(workspace, data, model, preset, seed, 'train')
    const evalSplit = await openEpochEvalSplit(workspace, data, model, preset, seed).catch(async (err: unknown) => {
      await train.close()
      throw err
    })
    const { ctx, dispose } = terminalJobContext('finetune')
    try {
      const summary = await runFinetune(
        {
          runDir: dir,
          model,
          preset,
          modality,
          linearProbe,
          loss,
          mixup,
          classes,
          steps: int(values, 'steps'),
          epochs: int(values, 'epochs'),
          batchSize: int(values, 'batch') ?? int(values, 'batch-size') ?? FINETUNE_DEFAULTS.batchSize,
          lr: num(values, 'lr') ?? (linearProbe ? FINETUNE_DEFAULTS.linearProbeLr : FINETUNE_DEFAULTS.lr),
          schedule,
          warmupSteps: int(values, 'warmup-steps'),
          weightDecay: FINETUNE_DEFAULTS.weightDecay,
          seed,
          checkpointEvery: int(values, 'checkpoint-every') ?? FINETUNE_DEFAULTS.checkpointEvery,
          resume: Boolean(values.resume),
          data
        },
        pretrained,
        { train: train.source, eval: { split: evalSplit.split, source: evalSplit.source } },
        ctx
      )
      const l = summary.last
      const e = summary.lastEval
      const evalText = e ? (e.mAP !== undefined ? ` — ${evalSplit.split} mAP ${e.mAP.toFixed(4)}` : ` — ${evalSplit.split} top-1 ${e.top1?.toFixed(1)}% top-5 ${e.top5?.toFixed(1)}%`) : ''
      process.stderr.write(`${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}${l ? ` — loss ${l.loss.toFixed(4)}` : ''}${evalText}\n`)
      return summary.cancelled ? 130 : 0
    } finally {
      dispose()
      await train.close()
      await evalSplit.close()
    }
  }
}
