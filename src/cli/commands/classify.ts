import { join } from 'node:path'
import { type Command, choice, optionSpec, UsageError, str } from '../command'
import { ProgressBar } from '../progress'
import { type ClassificationData, openClassificationSplit } from '../../main/data/classification-data'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { initBackend } from '../../main/engine/backend'
import { evaluateClassifier } from '../../main/engine/finetune/loop'
import { loadFinetuneRun } from '../../main/runs/load'
import { SplitSchema } from '../../shared/contract'
import { writeJsonAtomic } from '../../main/util/atomic'

export const evalClassifyCommand: Command = {
  path: ['eval', 'classify'],
  summary: "a fine-tuning run's classifier on a split: mAP (BCE runs) or top-1/top-5 (CE runs), overall and per class",
  usage: [
    '  --run NAME           a fine-tuning run of the workspace (its newest checkpoint is used)',
    '  --dataset NAME       a prepared dataset (default: the data the run was trained on)',
    '  --synthetic          the held-out clips of the synthetic task the run was trained on',
    '  --split train|val|test   (default test)',
    '  --workspace DIR',
    '  --json               print {"n","mAP" | "top1","top5","per_class":{...}}'
  ].join('\n'),
  options: optionSpec(['run', 'dataset', 'split', 'workspace'], ['synthetic', 'json']),
  async run(values) {
    const run = str(values, 'run')
    if (!run) throw new UsageError('--run NAME is required')
    const split = choice(values, 'split', SplitSchema.options, 'test')
    const dataset = str(values, 'dataset')
    if (dataset && values.synthetic) throw new UsageError('give at most one of --dataset NAME or --synthetic')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    await initBackend()
    const dir = runDir(workspace, checkName('run', run))
    const { config, params, step } = await loadFinetuneRun(dir)
    let data: ClassificationData = config.data.kind === 'synthetic' ? { kind: 'synthetic', clips: config.data.clips } : { kind: 'dataset', name: config.data.name }
    if (dataset) data = { kind: 'dataset', name: checkName('dataset', dataset) }
    else if (values.synthetic && data.kind !== 'synthetic') throw new UsageError(`run ${run} was not trained on the synthetic task; give --dataset NAME`)
    const opened = await openClassificationSplit(workspace, data, config.model, config.preset, config.seed, split)
    try {
      const bar = values.json ? null : new ProgressBar({ label: 'classify', total: opened.source.size, unit: 'clips' })
      const metrics = await evaluateClassifier(params, config, opened.source, (d) => bar?.update(d))
      const name = data.kind === 'dataset' ? data.name : 'synthetic'
      const result = { run, step, data: name, split, modality: config.modality, loss: config.loss, ...metrics }
      await writeJsonAtomic(join(dir, `classify-${name}-${split}.json`), result)
      if (values.json) process.stdout.write(JSON.stringify(result) + '\n')
      else {
        const headline = metrics.mAP !== undefined ? `mAP ${metrics.mAP.toFixed(4)}` : `top-1 ${metrics.top1?.toFixed(1)}%  top-5 ${metrics.top5?.toFixed(1)}%`
        process.stdout.write(`${config.modality} classifier (${config.linearProbe ? 'linear probe' : 'fine-tuned'}, step ${step}) on ${metrics.n} ${split} clips: ${headline}\n`)
      }
      return 0
    } finally {
      await opened.close()
      params.forEach((v) => v.dispose())
    }
  }
}
