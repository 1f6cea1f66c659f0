import { type Command, optionSpec, UsageError, int, str } from '../command'
import { terminalJobContext } from '../job-context'
import { resolveWorkspace } from '../../main/workspace'
import { PRESETS, type PresetName } from '../../main/engine/config'
import { datasetNormStats } from '../../main/workflows/norm-stats'

export const datasetNormStatsCommand: Command = {
  path: ['dataset', 'norm-stats'],
  summary: "compute a dataset's own fbank and frame statistics (CAV-MAE's get_norm_stats); later prepare and pretrain use them",
  usage: [
    '  --name NAME',
    '  --preset tiny|small|base   fbank length the statistics are taken at (padding counts, as in CAV-MAE; default tiny)',
    '  --clips N            training clips to decode, spread over the split (default 400)',
    '  --workspace DIR',
    '  --keep               keep statistics already stored instead of recomputing them',
    '  --json               print the statistics as JSON',
    'Runs then default to these statistics; `prepare` and `pretrain` take --input-norm official for AudioSet / ImageNet.'
  ].join('\n'),
  options: optionSpec(['name', 'preset', 'clips', 'workspace'], ['keep', 'json']),
  async run(values) {
    const name = str(values, 'name')
    if (!name) throw new UsageError('--name NAME is required')
    const preset = (str(values, 'preset') ?? 'tiny') as PresetName
    if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
    const maxClips = int(values, 'clips') ?? 400
    if (maxClips < 1) throw new UsageError('--clips must be at least 1')
    const { ctx, dispose } = terminalJobContext('statistics')
    try {
      const norm = await datasetNormStats(resolveWorkspace(str(values, 'workspace')), { name, preset, maxClips, keep: Boolean(values.keep) }, ctx)
      if (values.json) process.stdout.write(JSON.stringify(norm) + '\n')
      else {
        const f = norm.frame
        process.stderr.write(
          `${norm.source}\n  fbank mean ${norm.fbank.mean} std ${norm.fbank.std} (AudioSet: −4.346 / 4.332)\n` +
            `  frame mean [${f.mean.join(', ')}] std [${f.std.join(', ')}] (ImageNet: [0.485, 0.456, 0.406] / [0.229, 0.224, 0.225])\n`
        )
      }
      return 0
    } finally {
      dispose()
    }
  }
}
