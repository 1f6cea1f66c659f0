import { type Command, optionSpec, UsageError, int, str } from '../command'
import { terminalJobContext } from '../job-context'
import { checkName, resolveWorkspace } from '../../main/workspace'
import { PRESETS, type PresetName } from '../../main/engine/config'
import { prepareDataset } from '../../main/data/prepare-dataset'
import { imgSizeOption, inputNormChoice } from './model-options'

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
    const preset = (str(values, 'preset') ?? 'tiny') as PresetName
    if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
    const request = {
      workspace: resolveWorkspace(str(values, 'workspace')),
      dataset: checkName('dataset', name),
      preset,
      ...imgSizeOption(values),
      inputNorm: inputNormChoice(values),
      workers: int(values, 'workers') ?? 2
    }
    const { ctx, dispose } = terminalJobContext('prepare')
    try {
      const summary = await prepareDataset(request, ctx)
      if (summary.cancelled) {
        process.stderr.write('stopped; run the same command again to resume\n')
        return 130
      }
      if (values.json) {
        const { failures, ...rest } = summary
        process.stdout.write(JSON.stringify({ name, ...rest, failed: failures }) + '\n')
      }
      process.stderr.write(
        `prepared ${summary.prepared} clips (${summary.skipped} already cached, ${summary.failures.length} failed) in ${summary.cache}\n` +
          summary.failures.map((f) => `  failed ${f.id}: ${f.reason} — ${f.detail}\n`).join('')
      )
      return 0
    } finally {
      dispose()
    }
  }
}
