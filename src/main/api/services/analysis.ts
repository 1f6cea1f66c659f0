/**
 * Analysis: embed jobs, retrieval queries and summaries, and the embedding map, all read from what the
 * embed job stored under the run (src/main/runs/embeddings.ts). Loaded embeddings are kept in memory
 * (the last few splits) until their files change, so a query over 100k clips costs one pass of dot products.
 * The map's projections and true-pair ranks are computed in worker threads and kept per run, split,
 * embeddings version and parameters (analysis/map-tasks.ts).
 */
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { EmbeddingTarget, MapClipStatus, MapProjection, RunRetrieval } from '../../../shared/contract'
import { MAP_COLUMNS, encodeColumns } from '../../../shared/columns'
import type { ANALYSIS_METHODS } from '../../../shared/methods'
import { MapTasks } from '../../analysis/map-tasks'
import { queryTopK } from '../../analysis/query-top-k'
import type { Catalog, Split } from '../../data/catalog'
import type { DatasetCatalogs } from '../../data/datasets'
import { AnyRunConfigSchema, readConfig } from '../../runs/config'
import { type StoredEmbeddings, embeddingsDir, readStoredEmbeddings, retrievalReportPath, runEmbeddingKind, storedEmbeddings } from '../../runs/embeddings'
import { runDetail } from '../../runs/detail'
import { listEvaluations, readRetrievalReport } from '../../runs/evaluations'
import { runDir, runsDir } from '../../workspace'
import { toJob } from './jobs'
import type { AreaServices, ServiceContext } from './types'

const KEEP = 3

/** The last few stored embeddings read, each valid while its ids.json keeps its modification time. */
class EmbeddingsCache {
  private readonly entries = new Map<string, StoredEmbeddings>()
  constructor(
    private readonly workspace: string,
    private readonly catalogs: DatasetCatalogs
  ) {}

  async get(t: EmbeddingTarget): Promise<StoredEmbeddings> {
    const dir = embeddingsDir(this.workspace, t.run, t.dataset, t.split)
    const idsPath = join(dir, 'ids.json')
    if (!existsSync(idsPath)) throw new Error(`run "${t.run}" has no embeddings of ${t.dataset} (${t.split}) yet; compute them first`)
    const mtimeMs = (await stat(idsPath)).mtimeMs
    const hit = this.entries.get(dir)
    if (hit && hit.mtimeMs === mtimeMs) {
      this.entries.delete(dir) // re-inserted: most recently used last
      this.entries.set(dir, hit)
      return hit
    }
    const classes = await this.catalogs.use(t.dataset, (c) => c.classes())
    const fresh = await readStoredEmbeddings(dir, classes)
    this.entries.set(dir, fresh)
    while (this.entries.size > KEEP) this.entries.delete(this.entries.keys().next().value as string)
    return fresh
  }
}

async function runRetrieval(workspace: string, run: string): Promise<RunRetrieval> {
  const dir = runDir(workspace, run)
  const config = await readConfig(dir, AnyRunConfigSchema)
  const evaluations = await listEvaluations(dir)
  return { run, lineage: config.kind === 'finetune' ? config.lineage : null, latest: evaluations.at(-1) ?? null, evaluations, embedded: await storedEmbeddings(workspace, run) }
}

/** Each embedded clip as the catalog has it now: primary label (else the one stored with the embeddings), split and status. */
function catalogState(c: Catalog, e: StoredEmbeddings): { labels: number[]; splits: (Split | null)[]; status: MapClipStatus[] } {
  const clips = e.ids.map((id) => c.get(id))
  return {
    labels: clips.map((clip, i) => (clip ? (clip.labels[0] ?? -1) : e.labels[i])),
    splits: clips.map((clip) => clip?.split ?? null),
    status: clips.map((clip) => (!clip ? 'missing' : clip.excluded ? 'excluded' : clip.status))
  }
}

export function analysisServices({ workspace, jobs, catalogs }: ServiceContext): AreaServices<typeof ANALYSIS_METHODS> {
  const cache = new EmbeddingsCache(workspace, catalogs)
  const tasks = new MapTasks()
  const key = (t: EmbeddingTarget, e: StoredEmbeddings, what: string): string => JSON.stringify([t.run, t.dataset, t.split, e.mtimeMs, what])
  const projectionKey = (t: EmbeddingTarget, e: StoredEmbeddings, p: MapProjection): string =>
    key(t, e, p.method === 'pca' ? `pca ${p.space}` : `umap ${p.space} ${p.nNeighbors} ${p.minDist} ${p.seed}`)
  return {
    'analysis.embed': async ({ run, dataset, split }) => {
      if (!existsSync(join(runDir(workspace, run), 'config.json'))) throw new Error(`no run "${run}" in ${workspace}`)
      return toJob(jobs.start({ kind: 'embed', args: { workspace, run, dataset, split } }))
    },
    'retrieval.query': async ({ clipId, direction, k, ...t }) => {
      const e = await cache.get(t)
      const q = e.ids.indexOf(clipId)
      if (q < 0) throw new Error(`clip "${clipId}" is not in the ${t.split} split of ${t.dataset} embedded by ${t.run}`)
      const [queries, gallery] = direction === 'a2v' ? [e.audio, e.visual] : [e.visual, e.audio]
      const top = queryTopK(gallery, e.dim, queries.subarray(q * e.dim, (q + 1) * e.dim), k, q)
      const wanted = [q, ...top.indices]
      const labels = await catalogs.use(t.dataset, (c) => new Map(wanted.map((i) => [i, (c.get(e.ids[i])?.labels ?? []).map((l) => e.classes[l] ?? String(l))])))
      return {
        query: { id: clipId, labels: labels.get(q) ?? [] },
        direction,
        n: e.ids.length,
        rank: top.rank,
        hits: Array.from(top.indices, (i, r) => ({ id: e.ids[i], score: top.scores[r], labels: labels.get(i) ?? [], truePair: i === q }))
      }
    },
    'retrieval.summary': async (t) => {
      const path = retrievalReportPath({ workspace, ...t, kind: await runEmbeddingKind(workspace, t.run) })
      return existsSync(path) ? readRetrievalReport(path) : null
    },
    'embeddings.map': async (t) => {
      if (!existsSync(join(embeddingsDir(workspace, t.run, t.dataset, t.split), 'ids.json'))) return null
      const e = await cache.get(t)
      const now = await catalogs.use(t.dataset, (c) => catalogState(c, e))
      return { n: e.ids.length, ids: e.ids, ...now, classes: e.classes, columns: [...MAP_COLUMNS], version: e.mtimeMs }
    },
    'embeddings.points': async ({ projection, ...t }) => {
      const e = await cache.get(t)
      const columns = await tasks.get(projectionKey(t, e, projection), () => ({ task: 'project', audio: e.audio, visual: e.visual, dim: e.dim, projection }))
      return encodeColumns(columns)
    },
    'embeddings.progress': async ({ projection, ...t }) => tasks.state(projectionKey(t, await cache.get(t), projection)),
    'embeddings.ranks': async (t) => {
      const e = await cache.get(t)
      const [a2v, v2a] = await tasks.get(key(t, e, 'ranks'), () => ({ task: 'ranks', audio: e.audio, visual: e.visual, dim: e.dim }))
      return { a2v: Array.from(a2v), v2a: Array.from(v2a) }
    },
    'runs.retrieval': async () => {
      if (!existsSync(runsDir(workspace))) return []
      const names = (await readdir(runsDir(workspace), { withFileTypes: true })).filter((d) => d.isDirectory() && existsSync(join(runsDir(workspace), d.name, 'config.json')))
      return Promise.all(names.map((d) => d.name).sort().map((name) => runRetrieval(workspace, name)))
    },
    'runs.detail': ({ run }) => runDetail(workspace, run)
  }
}
