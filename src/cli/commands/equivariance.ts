import { join } from 'node:path'
import { type Command, choice, optionSpec, UsageError, int, str } from '../command'
import { ProgressBar } from '../progress'
import { type ClassificationData, openClassificationSplit } from '../../main/data/classification-data'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { initBackend } from '../../main/engine/backend'
import { loadRun } from '../../main/runs/load'
import { equivarianceMarkdown, equivarianceProbe } from '../../main/engine/eval/equivariance'
import { SYNTHETIC_CLIPS, SplitSchema } from '../../shared/contract'
import { writeFileAtomic, writeJsonAtomic } from '../../main/util/atomic'

export const evalEquivarianceCommand: Command = {
  path: ['eval', 'equivariance'],
  summary: "how well a run's predictor anticipates each augmentation: cos(predicted, actual) per type and strength, next to the invariant baseline",
  usage: [
    '  --run NAME           a pretraining run of the workspace (its newest checkpoint is used)',
    '  --dataset NAME       a prepared dataset, or --synthetic for the held-out clips of the synthetic task',
    '  --split train|val|test   (default test)',
    '  --seed N             seed of the augmentation draws (default 0)',
    '  --workspace DIR',
    '  --json               print the rows as JSON (default: a Markdown table)'
  ].join('\n'),
  options: optionSpec(['run', 'dataset', 'split', 'seed', 'workspace'], ['synthetic', 'json']),
  async run(values) {
    const run = str(values, 'run')
    const dataset = str(values, 'dataset')
    if (!run) throw new UsageError('--run NAME is required')
    if (Boolean(dataset) === Boolean(values.synthetic)) throw new UsageError('give exactly one of --dataset NAME or --synthetic')
    const split = choice(values, 'split', SplitSchema.options, 'test')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    await initBackend()
    const dir = runDir(workspace, checkName('run', run))
    const { config, params, step } = await loadRun(dir)
    const synthetic = config.data.kind === 'synthetic' ? config.data.clips : SYNTHETIC_CLIPS
    const data: ClassificationData = dataset ? { kind: 'dataset', name: checkName('dataset', dataset) } : { kind: 'synthetic', clips: synthetic }
    const opened = await openClassificationSplit(workspace, data, config.model, config.preset, config.seed, split)
    try {
      const bar = values.json ? null : new ProgressBar({ label: 'equivariance', total: opened.source.size, unit: 'clips' })
      const rows = await equivarianceProbe(params, config.model, opened.source.size, (i) => opened.source.clip(i), {
        seed: int(values, 'seed') ?? 0,
        onProgress: (d) => bar?.update(d)
      })
      const name = dataset ?? 'synthetic'
      const result = { run, step, data: name, split, rows }
      await writeJsonAtomic(join(dir, `equivariance-${name}-${split}.json`), result)
      const table = equivarianceMarkdown(rows)
      await writeFileAtomic(join(dir, `equivariance-${name}-${split}.md`), table)
      process.stdout.write(values.json ? JSON.stringify(result) + '\n' : `equivariance of run ${run} (step ${step}) on ${opened.source.size} ${split} clips\n\n${table}`)
      return 0
    } finally {
      await opened.close()
      params.forEach((v) => v.dispose())
    }
  }
}
