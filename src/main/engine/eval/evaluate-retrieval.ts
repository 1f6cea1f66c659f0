/** Zero-shot retrieval in both directions, overall and per class, as the paper reports it. */
import type { Embeddings } from './embed'
import { retrievalMetrics } from './metrics'
import { rankRetrieval } from './retrieval'

export type RetrievalMetrics = ReturnType<typeof retrievalMetrics>

export interface RetrievalReport {
  n: number
  a2v: RetrievalMetrics
  v2a: RetrievalMetrics
  per_class: Record<string, { n: number; a2v: RetrievalMetrics; v2a: RetrievalMetrics }>
  /** [n, k] top-k gallery indices per query, for the UI */
  top: { a2v: Int32Array; v2a: Int32Array; k: number }
}

export function evaluateRetrieval(e: Embeddings, classNames: string[] = []): RetrievalReport {
  const a2v = rankRetrieval(e.audio, e.visual, e.dim)
  const v2a = rankRetrieval(e.visual, e.audio, e.dim)
  const per_class: RetrievalReport['per_class'] = {}
  for (const label of [...new Set(e.labels)].sort((x, y) => x - y)) {
    const members = e.labels.flatMap((l, i) => (l === label ? [i] : []))
    per_class[classNames[label] ?? String(label)] = {
      n: members.length,
      a2v: retrievalMetrics(members.map((i) => a2v.ranks[i])),
      v2a: retrievalMetrics(members.map((i) => v2a.ranks[i]))
    }
  }
  return {
    n: e.ids.length,
    a2v: retrievalMetrics(a2v.ranks),
    v2a: retrievalMetrics(v2a.ranks),
    per_class,
    top: { a2v: a2v.topK, v2a: v2a.topK, k: a2v.k }
  }
}
