import { type Command, UsageError, int, str } from '../command'
import { terminalJobContext } from '../job-context'
import { checkName, datasetDir, resolveWorkspace } from '../../main/workspace'
import { PRESETS, type PresetName } from '../../main/engine/config'
import { Catalog } from '../../main/data/catalog'
import { cacheDir, prepareCache } from '../../main/data/cache'
import { cacheSettingsFor, datasetModel } from '../../main/data/dataset-source'
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
  options: { name: { type: 'string' }, preset: { type: 'string' }, 'input-norm': { type: 'string' }, 'img-size': { type: 'string' }, workers: { type: 'string' }, workspace: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const name = str(values, 'name')
    if (!name) throw new UsageError('--name NAME is required')
    const preset = (str(values, 'preset') ?? 'tiny') as PresetName
    if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const dir = datasetDir(workspace, checkName('dataset', name))
    const model = datasetModel(workspace, name, { ...PRESETS[preset], ...imgSizeOption(values) }, inputNormChoice(values))
    const catalog = Catalog.open(dir)
    const clips = catalog.list({ status: 'ok', excluded: false }).map((c) => ({ id: c.id, path: c.path }))
    catalog.close()
    if (clips.length === 0) throw new Error(`dataset "${name}" has no usable clips (see equiav dataset info --name ${name})`)
    const settings = cacheSettingsFor(model)
    const { ctx, dispose } = terminalJobContext('prepare')
    const started = Date.now()
    try {
      let skipped = 0
      const index = await prepareCache({
        datasetDir: dir,
        clips,
        settings,
        workers: int(values, 'workers') ?? 2,
        signal: ctx.signal,
        onProgress: (p) => {
          skipped = p.skipped
          ctx.progress({ done: p.done, total: p.total, unit: 'clips', fields: p.failed ? { failed: String(p.failed) } : {} })
        }
      })
      if (ctx.signal.aborted) {
        process.stderr.write('stopped; run the same command again to resume\n')
        return 130
      }
      const prepared = index.shards.reduce((n, s) => n + s.ids.length, 0)
      const seconds = (Date.now() - started) / 1000
      const summary = { name, cache: cacheDir(dir, settings), prepared, skipped, failed: index.failures, seconds, clipsPerSecond: (prepared - skipped) / seconds }
      if (values.json) process.stdout.write(JSON.stringify(summary) + '\n')
      process.stderr.write(
        `prepared ${prepared} clips (${skipped} already cached, ${index.failures.length} failed) in ${summary.cache}\n` +
          index.failures.map((f) => `  failed ${f.id}: ${f.reason} — ${f.detail}\n`).join('')
      )
      return 0
    } finally {
      dispose()
    }
  }
}
