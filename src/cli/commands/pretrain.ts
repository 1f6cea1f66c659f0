import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Command, UsageError, int, parseFlags, str } from '../command'
import { terminalJobContext } from '../job-context'
import { resolveWorkspace, runDir } from '../../main/workspace'
import { runPretrainRequest } from '../../main/workflows/pretrain'
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
