/**
 * The `embed` job: a dataset split embedded with a run's newest weights, stored for the workbench — the
 * embeddings with their 2-D map (<run>/embeddings/<dataset>-<split>/) and the retrieval report
 * (<run>/retrieval-<dataset>-<split>-<kind>.json, the run's own embedding kind: see runEmbeddingKind).
 * Cancelling stops between batches.
 */
import { exportEmbeddings } from '../data/embeddings-export'
import { embedSplit, embeddingsDir, runEmbeddingKind, writeRetrievalReport } from '../data/split-embeddings'
import { checkName } from '../workspace'
import type { JobContext } from './context'
import type { EmbedJobArgs } from './protocol'

export async function runEmbed(a: EmbedJobArgs, ctx: JobContext): Promise<unknown> {
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
  return { n: report.n, step, a2v: report.a2v, v2a: report.v2a }
}
