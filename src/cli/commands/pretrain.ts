import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Command, choice, optionSpec, type OptionValues, UsageError, int, num, parseFlags, str } from '../command'
import { withTerminalJob } from '../job-context'
import { resolveWorkspace, runDir } from '../../main/workspace'
import { runPretrainRequest } from '../../main/workflows/pretrain'
import { type CollapseAction, GUARD_DEFAULTS, type GuardSettings } from '../../main/engine/train/guard'
import { INIT_MODALITIES, PretrainRequestSchema } from '../../shared/requests'
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingFlags } from './training-options'

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

/** --on-collapse, --collapse-window, --collapse-spread, --max-norm-growth → the training guard's settings */
function guardOptions(values: OptionValues): GuardSettings {
  const d = GUARD_DEFAULTS
  const action = choice<CollapseAction>(values, 'on-collapse', ['stop', 'warn', 'off'], d.collapse.action)
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
  options: { ...TRAINING_OPTIONS, ...optionSpec(['workers', 'init-from', 'init-modalities', 'workspace', 'run', 'on-collapse', 'collapse-window', 'collapse-spread', 'max-norm-growth', 'clips', 'dataset'], ['resume', 'allow-partial', 'synthetic']) },
  async run(values) {
    const dataset = str(values, 'dataset')
    if (Boolean(values.synthetic) === Boolean(dataset)) throw new UsageError('give exactly one of --synthetic or --dataset NAME')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const request = parseFlags(PretrainRequestSchema, {
      ...trainingFlags(values),
      run: str(values, 'run') ?? new Date().toISOString().replace(/[:.]/g, '-'),
      resume: Boolean(values.resume),
      dataset,
      syntheticClips: int(values, 'clips'),
      initFrom: initFromOption(workspace, str(values, 'init-from')),
      initModalities: initModalities(str(values, 'init-modalities')),
      workers: int(values, 'workers'),
      allowPartial: Boolean(values['allow-partial'])
    }, { syntheticClips: 'clips' })
    const guard = guardOptions(values)
    const summary = await withTerminalJob('pretrain', (ctx) => runPretrainRequest(workspace, request, ctx, { guard }))
    const l = summary.last
    process.stderr.write(
      `${summary.cancelled ? 'stopped' : 'finished'} at step ${summary.finalStep} in ${summary.runDir}` +
        (l ? ` — loss ${l.loss.toFixed(4)} (inter ${l.loss_inter.toFixed(4)}, intra_a ${l.loss_intra_a.toFixed(4)}, intra_v ${l.loss_intra_v.toFixed(4)})` : '') +
        '\n'
    )
    return summary.cancelled ? 130 : 0
  }
}
