import { type Command, choice, optionSpec, UsageError, int, str } from '../command'
import { withTerminalJob } from '../job-context'
import { resolveWorkspace } from '../../main/workspace'
import { PRESET_NAMES } from '../../shared/requests'
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
    const preset = choice(values, 'preset', PRESET_NAMES, 'tiny')
    const maxClips = int(values, 'clips') ?? 400
    if (maxClips < 1) throw new UsageError('--clips must be at least 1')
    const norm = await withTerminalJob('statistics', (ctx) => datasetNormStats(resolveWorkspace(str(values, 'workspace')), { name, preset, maxClips, keep: Boolean(values.keep) }, ctx))
    if (values.json) process.stdout.write(JSON.stringify(norm) + '\n')
    else {
      const f = norm.frame
      process.stderr.write(
        `${norm.source}\n  fbank mean ${norm.fbank.mean} std ${norm.fbank.std} (AudioSet: −4.346 / 4.332)\n` +
          `  frame mean [${f.mean.join(', ')}] std [${f.std.join(', ')}] (ImageNet: [0.485, 0.456, 0.406] / [0.229, 0.224, 0.225])\n`
      )
    }
    return 0
  }
}
