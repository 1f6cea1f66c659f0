/**
 * The `embed` job: a dataset split embedded with a run's newest weights, stored for the workbench — the
 * embeddings with their 2-D map (<run>/embeddings/<dataset>-<split>/) and the retrieval report
 * (<run>/retrieval-<dataset>-<split>-<kind>.json, the run's own embedding kind: see runEmbeddingKind).
 * Cancelling stops between batches.
 */
import { initBackend } from '../engine/backend'
import { embedClips, type Embeddings } from '../engine/eval/embed'
import type { Reporter } from '../engine/report'
import { Catalog, type Split } from '../data/catalog'
import { openDatasetSource } from '../data/dataset-source'
import { exportEmbeddings } from '../data/embeddings-export'
import { type RetrievalSummary, type SplitEmbeddingRequest, embeddingsDir, runEmbeddingKind, writeRetrievalReport } from '../runs/embeddings'
import { loadRun } from '../runs/load'
import { EnginePool } from '../engine/train/parallel/pool'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { checkName, datasetDir, runDir } from '../workspace'

/** A dataset split of the workspace to embed with a run's newest weights. */
export interface EmbedRequest {
  workspace: string
  run: string
  dataset: string
  split: Split
}

export interface EmbedOptions {
  /** clips embedded so far, of `total` */
  onProgress?: (done: number, total: number) => void
  /** stops between batches with an error when aborted */
  signal?: AbortSignal
  /** engine workers the clips are split over (default: every core on wasm, 1 on the native backends) */
  workers?: number
}

/** clips embedded at a time (split over the engine workers) */
const EMBED_BATCH = 16

/** A dataset split embedded with a run's newest weights. */
export async function embedSplit(r: SplitEmbeddingRequest, o: EmbedOptions = {}): Promise<{ emb: Embeddings; classes: string[]; step: number }> {
  const backend = await initBackend()
  const { config, params, step } = await loadRun(runDir(r.workspace, r.run))
  const workers = await resolveWorkers(o.workers, EMBED_BATCH)
  const pool = workers > 1 ? await EnginePool.start({ workers, backend: backend.name, model: { kind: 'pretrain', config: config.model, objective: config.objective }, params }) : null
  try {
    const data = await openDatasetSource(r.workspace, r.dataset, config.model, r.split, config.preset, true)
    const catalog = Catalog.open(datasetDir(r.workspace, r.dataset))
    const classes = catalog.classes()
    catalog.close()
    try {
      const total = data.source.size
      o.onProgress?.(0, total)
      const emb = await embedClips(
        params,
        config.model,
        total,
        (i) => {
          if (o.signal?.aborted) throw new Error('embedding cancelled')
          return data.source.clip(i)
        },
        { kind: r.kind, seed: r.seed, batchSize: EMBED_BATCH, onProgress: (d) => o.onProgress?.(d, total), embedRows: pool ? (x) => pool.embed(x) : undefined }
      )
      return { emb, classes, step }
    } finally {
      await data.close()
    }
  } finally {
    await pool?.close()
    params.forEach((v) => v.dispose())
  }
}

/** Embeds the split and stores what the workbench reads; resolves to the retrieval headline (without per-class figures). */
export async function runEmbed(a: EmbedRequest, ctx: Reporter): Promise<Omit<RetrievalSummary, 'per_class'>> {
  const run = checkName('run', a.run)
  const r = { workspace: a.workspace, run, dataset: checkName('dataset', a.dataset), split: a.split, kind: await runEmbeddingKind(a.workspace, run), seed: 0 }
  const { emb, classes, step } = await embedSplit(r, {
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress({ done, total, unit: 'clips' })
  })
  ctx.log(`embedded ${emb.ids.length} ${a.split} clips of ${a.dataset} with ${a.run} at step ${step}`)
  await exportEmbeddings(emb, classes, embeddingsDir(a.workspace, a.run, a.dataset, a.split), 'npy')
  const report = await writeRetrievalReport(r, emb, classes, step)
  const f = (m: typeof report.a2v): string => `R@1 ${m['R@1'].toFixed(1)} R@5 ${m['R@5'].toFixed(1)} R@10 ${m['R@10'].toFixed(1)}`
  ctx.log(`retrieval A→V ${f(report.a2v)}; V→A ${f(report.v2a)}`)
  const { per_class: _perClass, ...headline } = report
  return headline
}
