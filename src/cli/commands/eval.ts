import { type Command, choice, optionSpec, type OptionValues, UsageError, int, str } from '../command'
import { ProgressBar } from '../progress'
import { checkName, datasetDir, resolveWorkspace, runDir } from '../../main/workspace'
import { initBackend } from '../../main/engine/backend'
import { loadRun } from '../../main/runs/load'
import { createParams } from '../../main/engine/model'
import { encoderFeatures, linearProbe, type ProbeModality } from '../../main/engine/eval/probe'
import type { EmbeddingKind, Embeddings } from '../../main/engine/eval/embed'
import { openDatasetSource } from '../../main/data/dataset-source'
import { Catalog, type Split } from '../../main/data/catalog'
import { exportEmbeddings } from '../../main/data/embeddings-export'
import { type RetrievalSummary, type SplitEmbeddingRequest, embeddingsDir, runEmbeddingKind, writeRetrievalReport } from '../../main/runs/embeddings'
import { embedSplit as embedSplitWith } from '../../main/workflows/embed'
import { SplitSchema } from '../../shared/contract'

/** A dataset split embedded with a run's newest weights, with a progress bar on request. */
export async function embedSplit(r: SplitEmbeddingRequest, showProgress: boolean, workers?: number): Promise<{ emb: Embeddings; classes: string[]; step: number }> {
  let bar: ProgressBar | null = null
  return embedSplitWith(r, {
    workers,
    onProgress: (done, total) => {
      if (!showProgress) return
      bar ??= new ProgressBar({ label: 'embed', total, unit: 'clips' })
      bar.update(done)
    }
  })
}

/** Embeds a dataset split with a run's newest weights and ranks it in both directions. */
export async function runRetrievalEval(r: SplitEmbeddingRequest, showProgress: boolean, workers?: number): Promise<RetrievalSummary> {
  const { emb, classes, step } = await embedSplit(r, showProgress, workers)
  return writeRetrievalReport(r, emb, classes, step)
}

/** Options shared by the commands that embed a dataset split with a run. */
const EMBED_OPTIONS = optionSpec(['run', 'dataset', 'split', 'embedding', 'seed', 'workers', 'workspace'])

async function embeddingRequest(values: OptionValues): Promise<SplitEmbeddingRequest> {
  const run = str(values, 'run')
  const dataset = str(values, 'dataset')
  if (!run || !dataset) throw new UsageError('--run NAME and --dataset NAME are required')
  const split = choice(values, 'split', SplitSchema.options, 'test')
  const asked = choice<EmbeddingKind>(values, 'embedding', ['centroid', 'original'])
  const workspace = resolveWorkspace(str(values, 'workspace'))
  const runName = checkName('run', run)
  const kind = asked ?? (await runEmbeddingKind(workspace, runName))
  return {
    workspace,
    run: runName,
    dataset: checkName('dataset', dataset),
    split,
    kind,
    seed: int(values, 'seed') ?? 0
  }
}

/** R@K and median rank in both directions, as `eval retrieval` prints them. */
export function describeRetrieval(result: Pick<RetrievalSummary, 'n' | 'split' | 'a2v' | 'v2a'>): string {
  const f = (m: typeof result.a2v): string => `R@1 ${m['R@1'].toFixed(1)}  R@5 ${m['R@5'].toFixed(1)}  R@10 ${m['R@10'].toFixed(1)}  median rank ${m.median_rank}`
  return `retrieval on ${result.n} ${result.split} clips (chance R@1 ${(100 / result.n).toFixed(2)}%)\n  A→V  ${f(result.a2v)}\n  V→A  ${f(result.v2a)}\n`
}

export const evalRetrievalCommand: Command = {
  path: ['eval', 'retrieval'],
  summary: 'zero-shot audio→visual and visual→audio retrieval (R@1/5/10, median rank, per class)',
  usage: [
    '  --run NAME           a pretraining run of the workspace (its newest checkpoint is used)',
    '  --dataset NAME       a prepared dataset',
    '  --split train|test   (default test)',
    '  --embedding centroid|original   centroid = the paper\'s S-sample centroid; original = mean-pooled',
    '                       (default: centroid for an equiav run, original for invariant / inter-only runs)',
    '  --seed N             seed of the S augmentation vectors (default 0)',
    '  --workers N          engine worker threads the clips are split over (default: every core on wasm)',
    '  --workspace DIR',
    '  --json               print {"n","a2v":{"R@1","R@5","R@10","median_rank"},"v2a":{...},"per_class":{...}}'
  ].join('\n'),
  options: { ...EMBED_OPTIONS, ...optionSpec([], ['json']) },
  async run(values) {
    const req = await embeddingRequest(values)
    const result = await runRetrievalEval(req, !values.json, int(values, 'workers'))
    process.stdout.write(values.json ? JSON.stringify(result) + '\n' : describeRetrieval(result))
    return 0
  }
}

export const embedCommand: Command = {
  path: ['embed'],
  summary: "export a split's audio and visual embeddings (.npy with ids, or TensorBoard-projector TSV) and a 2-D map (PCA or UMAP)",
  usage: [
    '  --run NAME --dataset NAME --split train|test',
    '  --export npy|tsv     (default npy)',
    '  --projection pca|umap   2-D map written beside the .npy arrays (default pca; UMAP is seeded by --seed)',
    '  --embedding centroid|original   (default: centroid for an equiav run, original otherwise)',
    '  --seed N             seed of the S augmentation vectors (default 0)',
    '  --out DIR            (default <run>/embeddings/<dataset>-<split>)',
    '  --workers N          engine worker threads the clips are split over (default: every core on wasm)',
    '  --workspace DIR'
  ].join('\n'),
  options: { ...EMBED_OPTIONS, ...optionSpec(['export', 'projection', 'out']) },
  async run(values) {
    const req = await embeddingRequest(values)
    const format = choice(values, 'export', ['npy', 'tsv'], 'npy')
    const projection = choice(values, 'projection', ['pca', 'umap'], 'pca')
    const { emb, classes } = await embedSplit(req, true, int(values, 'workers'))
    const out = str(values, 'out') ?? embeddingsDir(req.workspace, req.run, req.dataset, req.split)
    const files = await exportEmbeddings(emb, classes, out, format, { projection, seed: req.seed })
    process.stdout.write(files.join('\n') + '\n')
    return 0
  }
}

export const evalProbeCommand: Command = {
  path: ['eval', 'probe'],
  summary: "linear probe on a run's frozen encoders (first label, top-1 on the test split), next to the same probe on a randomly initialised encoder",
  usage: [
    '  --run NAME --dataset NAME',
    '  --modality audio|visual|audio-visual   (default audio-visual)',
    '  --epochs N           classifier epochs (full batch, default 300)',
    '  --workspace DIR',
    '  --json'
  ].join('\n'),
  options: optionSpec(['run', 'dataset', 'modality', 'epochs', 'workspace'], ['json']),
  async run(values) {
    const run = str(values, 'run')
    const dataset = str(values, 'dataset')
    if (!run || !dataset) throw new UsageError('--run NAME and --dataset NAME are required')
    const modality = choice<ProbeModality>(values, 'modality', ['audio', 'visual', 'audio-visual'], 'audio-visual')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    await initBackend()
    const { config, params, step } = await loadRun(runDir(workspace, checkName('run', run)))
    const random = createParams(config.model, config.seed + 1)
    const catalog = Catalog.open(datasetDir(workspace, checkName('dataset', dataset)))
    const classes = catalog.classes().length
    catalog.close()
    const load = async (split: Split) => {
      const d = await openDatasetSource(workspace, dataset, config.model, split, config.preset, true)
      try {
        return await Promise.all(Array.from({ length: d.source.size }, (_, i) => d.source.clip(i)))
      } finally {
        await d.close()
      }
    }
    const [train, test] = [await load('train'), await load('test')]
    const dim = modality === 'audio-visual' ? 2 * config.model.embedDim : config.model.embedDim
    const probe = async (p: typeof params): Promise<number> => {
      const [xTrain, xTest] = [await encoderFeatures(p, config.model, train, modality), await encoderFeatures(p, config.model, test, modality)]
      return linearProbe({ x: xTrain, y: train.map((c) => c.label) }, { x: xTest, y: test.map((c) => c.label) }, dim, classes, { epochs: int(values, 'epochs') })
    }
    const result = { run, step, dataset, modality, train: train.length, test: test.length, chance: 100 / classes, top1: await probe(params), random_init_top1: await probe(random) }
    params.forEach((v) => v.dispose())
    random.forEach((v) => v.dispose())
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n')
    else process.stdout.write(`linear probe (${modality}, ${result.test} test clips): top-1 ${result.top1.toFixed(1)}% — random-init encoder ${result.random_init_top1.toFixed(1)}%, chance ${result.chance.toFixed(1)}%\n`)
    return 0
  }
}
