import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Command, UsageError, int, str } from '../command'
import { ProgressBar } from '../progress'
import { checkName, datasetDir, resolveWorkspace, runDir } from '../../main/workspace'
import { initBackend } from '../../main/engine/backend'
import { loadRun } from '../../main/engine/train/run'
import { embedClips, type EmbeddingKind } from '../../main/engine/eval/embed'
import { evaluateRetrieval } from '../../main/engine/eval/evaluate-retrieval'
import { openDatasetSource } from '../../main/data/dataset-source'
import { Catalog, type Split } from '../../main/data/catalog'

export interface RetrievalRequest {
  workspace: string
  run: string
  dataset: string
  split: Split
  kind: EmbeddingKind
  seed: number
}

/** Embeds a dataset split with a run's newest weights and ranks it in both directions. */
export async function runRetrievalEval(r: RetrievalRequest, showProgress: boolean) {
  await initBackend()
  const { config, params, step } = await loadRun(runDir(r.workspace, r.run))
  const data = await openDatasetSource(r.workspace, r.dataset, config.model, r.split, config.preset)
  const catalog = Catalog.open(datasetDir(r.workspace, r.dataset))
  const classes = catalog.classes()
  catalog.close()
  try {
    const bar = showProgress ? new ProgressBar({ label: 'embed', total: data.source.size, unit: 'clips' }) : null
    const emb = await embedClips(params, config.model, data.source.size, (i) => data.source.clip(i), {
      kind: r.kind,
      seed: r.seed,
      onProgress: (d) => bar?.update(d)
    })
    const report = evaluateRetrieval(emb, classes)
    const { top, ...summary } = report
    const result = { run: r.run, step, dataset: r.dataset, split: r.split, embedding: r.kind, seed: r.seed, ...summary }
    await writeFile(join(runDir(r.workspace, r.run), `retrieval-${r.dataset}-${r.split}-${r.kind}.json`), JSON.stringify({ ...result, ids: emb.ids, top: { k: top.k, a2v: Array.from(top.a2v), v2a: Array.from(top.v2a) } }))
    return result
  } finally {
    await data.close()
    params.forEach((v) => v.dispose())
  }
}

export const evalRetrievalCommand: Command = {
  path: ['eval', 'retrieval'],
  summary: 'zero-shot audio→visual and visual→audio retrieval (R@1/5/10, median rank, per class)',
  usage: [
    '  --run NAME           a pretraining run of the workspace (its newest checkpoint is used)',
    '  --dataset NAME       a prepared dataset',
    '  --split train|test   (default test)',
    '  --embedding centroid|original   centroid = the paper\'s S-sample centroid (default); original = mean-pooled',
    '  --seed N             seed of the S augmentation vectors (default 0)',
    '  --workspace DIR',
    '  --json               print {"n","a2v":{"R@1","R@5","R@10","median_rank"},"v2a":{...},"per_class":{...}}'
  ].join('\n'),
  options: {
    run: { type: 'string' },
    dataset: { type: 'string' },
    split: { type: 'string' },
    embedding: { type: 'string' },
    seed: { type: 'string' },
    workspace: { type: 'string' },
    json: { type: 'boolean' }
  },
  async run(values) {
    const run = str(values, 'run')
    const dataset = str(values, 'dataset')
    if (!run || !dataset) throw new UsageError('--run NAME and --dataset NAME are required')
    const split = (str(values, 'split') ?? 'test') as Split
    if (!['train', 'val', 'test'].includes(split)) throw new UsageError('--split must be train, val or test')
    const kind = (str(values, 'embedding') ?? 'centroid') as EmbeddingKind
    if (!['centroid', 'original'].includes(kind)) throw new UsageError('--embedding must be centroid or original')
    const result = await runRetrievalEval(
      { workspace: resolveWorkspace(str(values, 'workspace')), run: checkName('run', run), dataset: checkName('dataset', dataset), split, kind, seed: int(values, 'seed') ?? 0 },
      !values.json
    )
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n')
    else {
      const f = (m: typeof result.a2v): string => `R@1 ${m['R@1'].toFixed(1)}  R@5 ${m['R@5'].toFixed(1)}  R@10 ${m['R@10'].toFixed(1)}  median rank ${m.median_rank}`
      process.stdout.write(`retrieval on ${result.n} ${split} clips (chance R@1 ${(100 / result.n).toFixed(2)}%)\n  A→V  ${f(result.a2v)}\n  V→A  ${f(result.v2a)}\n`)
    }
    return 0
  }
}
