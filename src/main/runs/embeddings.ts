/**
 * What a run stores of a dataset split's embeddings: the retrieval report
 * (<run>/retrieval-<dataset>-<split>-<kind>.json) and the embeddings with their 2-D map
 * (<run>/embeddings/<dataset>-<split>/: audio.npy, visual.npy, pca2d.npy, ids.json).
 * Written by the embed workflow and `eval retrieval`, read by the workbench (which computes the map it
 * shows from audio.npy and visual.npy, in the projection asked for: api/services/analysis.ts).
 */
import { existsSync } from 'node:fs'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { EmbeddingKind, Embeddings } from '../engine/eval/embed'
import { evaluateRetrieval, type RetrievalReport } from '../engine/eval/evaluate-retrieval'
import { writeFileAtomic } from '../util/atomic'
import { runDir } from '../workspace'
import type { Split } from '../data/catalog'
import { readNpy } from '../data/npy'
import { AnyRunConfigSchema, readConfig } from './config'

export interface SplitEmbeddingRequest {
  workspace: string
  run: string
  dataset: string
  split: Split
  kind: EmbeddingKind
  seed: number
}

/**
 * The embedding a run's retrieval uses unless told otherwise: the S-sample centroid for the EquiAV
 * objective (the only one that trains the predictor), the mean-pooled original for `invariant` and
 * `inter-only` runs, whose predictor is still at its initialisation.
 */
export async function runEmbeddingKind(workspace: string, run: string): Promise<EmbeddingKind> {
  const config = await readConfig(runDir(workspace, run), AnyRunConfigSchema)
  const objective = config.kind === 'finetune' ? 'equiav' : config.objective
  return objective === 'equiav' && config.model.cenMean !== false ? 'centroid' : 'original'
}

export const retrievalReportPath = (r: Pick<SplitEmbeddingRequest, 'workspace' | 'run' | 'dataset' | 'split' | 'kind'>): string =>
  join(runDir(r.workspace, r.run), `retrieval-${r.dataset}-${r.split}-${r.kind}.json`)

export const embeddingsDir = (workspace: string, run: string, dataset: string, split: string): string => join(runDir(workspace, run), 'embeddings', `${dataset}-${split}`)

/** The "<dataset>-<split>" folders of a run whose embeddings are complete (ids.json is written last). */
export async function storedEmbeddings(workspace: string, run: string): Promise<string[]> {
  const dir = join(runDir(workspace, run), 'embeddings')
  const names = await readdir(dir).catch(() => [])
  return names.filter((n) => existsSync(join(dir, n, 'ids.json'))).sort()
}

/** What the retrieval report file holds besides the clip ids and the top-k lists. */
export type RetrievalSummary = Omit<RetrievalReport, 'top'> & {
  run: string
  step: number
  dataset: string
  split: Split
  embedding: EmbeddingKind
  seed: number
}

/** Ranks the embeddings in both directions and stores the report (with ids and top-k lists, for the UI). */
export async function writeRetrievalReport(r: SplitEmbeddingRequest, emb: Embeddings, classes: string[], step: number): Promise<RetrievalSummary> {
  const { top, ...summary } = evaluateRetrieval(emb, classes)
  const result: RetrievalSummary = { run: r.run, step, dataset: r.dataset, split: r.split, embedding: r.kind, seed: r.seed, ...summary }
  await writeFileAtomic(
    retrievalReportPath(r),
    JSON.stringify({ ...result, ids: emb.ids, top: { k: top.k, a2v: Array.from(top.a2v), v2a: Array.from(top.v2a) } })
  )
  return result
}

/** Embeddings as stored by `exportEmbeddings(…, 'npy')`, with labels as class indices (-1: none). */
export interface StoredEmbeddings {
  ids: string[]
  labels: Int32Array
  classes: string[]
  dim: number
  audio: Float32Array
  visual: Float32Array
  /** ids.json's modification time: a new embed job replaces the files */
  mtimeMs: number
}

function fail(path: string, reason: string): never {
  throw new Error(`${path}: ${reason}`)
}

export async function readStoredEmbeddings(dir: string, classes: string[]): Promise<StoredEmbeddings> {
  const idsPath = join(dir, 'ids.json')
  if (!existsSync(idsPath)) throw new Error(`no embeddings in ${dir} yet; compute them first`)
  const mtimeMs = (await stat(idsPath)).mtimeMs
  const meta = JSON.parse(await readFile(idsPath, 'utf8')) as { ids?: unknown; labels?: unknown }
  if (!Array.isArray(meta.ids) || !Array.isArray(meta.labels) || meta.ids.length !== meta.labels.length) fail(idsPath, 'expected {ids: [...], labels: [...]} of equal length')
  const ids = meta.ids.map(String)
  const n = ids.length
  const [audio, visual] = await Promise.all(['audio.npy', 'visual.npy'].map((f) => readNpy(join(dir, f))))
  const dim = audio.shape[1] ?? 0
  if (audio.shape[0] !== n || visual.shape.join() !== audio.shape.join()) fail(join(dir, 'visual.npy'), `shapes (${audio.shape}) and (${visual.shape}) do not match ${n} ids`)
  const index = new Map(classes.map((c, i) => [c, i]))
  const labels = Int32Array.from(meta.labels, (l) => index.get(String(l)) ?? -1)
  return { ids, labels, classes, dim, audio: audio.data, visual: visual.data, mtimeMs }
}
