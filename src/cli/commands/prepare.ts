import { type Command, choice, optionSpec, UsageError, int, str } from '../command'
import { stopped, withTerminalJob } from '../job-context'
import { checkName, resolveWorkspace } from '../../main/workspace'
import { INPUT_NORMS, PRESET_NAMES } from '../../shared/requests'
import { prepareDataset } from '../../main/data/prepare-dataset'
import { imgSizeOption } from './model-options'

export const datasetPrepareCommand: Command = {
  path: ['dataset', 'prepare'],
  summary: 'decode every usable clip once into the preprocessing cache (fbank + frames) for a model size',
  usage: [
    '  --name NAME          dataset name',
    '  --preset tiny|small|base   sets the fbank length and frame size (default tiny)',
    '  --img-size N         frame side, as given to pretrain --img-size (default: the preset\'s)',
    '  --input-norm dataset|official   fbank normalisation (default: the dataset\'s statistics when `dataset norm-stats` stored them)',
    '  --workers N          worker processes (default 2)',
    '  --workspace DIR',
    '  --json               print a JSON summary on stdout',
    'Incremental and resumable: clips already in the cache are not redone.'
  ].join('\n'),
  options: optionSpec(['name', 'preset', 'input-norm', 'img-size', 'workers', 'workspace'], ['json']),
  async run(values) {
    const name = str(values, 'name')
    if (!name) throw new UsageError('--name NAME is required')
    const preset = choice(values, 'preset', PRESET_NAMES, 'tiny')
    const request = {
      workspace: resolveWorkspace(str(values, 'workspace')),
      dataset: checkName('dataset', name),
      preset,
      ...imgSizeOption(values),
      inputNorm: choice(values, 'input-norm', INPUT_NORMS),
      workers: int(values, 'workers') ?? 2
    }
    const summary = await withTerminalJob('prepare', (ctx) => prepareDataset(request, ctx))
    if (summary.cancelled) return stopped()
    if (values.json) {
      const { failures, ...rest } = summary
      process.stdout.write(JSON.stringify({ name, ...rest, failed: failures }) + '\n')
    }
    process.stderr.write(
      `prepared ${summary.prepared} clips (${summary.skipped} already cached, ${summary.failures.length} failed) in ${summary.cache}\n` +
        summary.failures.map((f) => `  failed ${f.id}: ${f.reason} — ${f.detail}\n`).join('')
    )
    return 0
  }
}
