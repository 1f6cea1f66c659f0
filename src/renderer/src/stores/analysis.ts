/**
 * What the Retrieval and Embeddings views share: the chosen run, dataset and split; the stored
 * embeddings' map (ids, labels, and the coordinates as binary columns, fetched once per version); the
 * retrieval summary; and the embed job computing them, followed through the job events.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { DatasetSummary, EmbeddingMapMeta, EmbeddingTarget, Job, RetrievalSummary, RunSummary } from '../../../shared/contract'
import { MAP_COLUMNS, type MapColumn, decodeColumns } from '../../../shared/columns'
import { api } from '../api'

export type MapPoints = Record<MapColumn, Float32Array>

export const useAnalysisStore = defineStore('analysis', () => {
  const runs = ref<RunSummary[]>([])
  const datasets = ref<DatasetSummary[]>([])
  const run = ref<string | null>(null)
  const dataset = ref<string | null>(null)
  const split = ref<EmbeddingTarget['split']>('test')
  const meta = shallowRef<EmbeddingMapMeta | null>(null)
  const points = shallowRef<MapPoints | null>(null)
  const summary = shallowRef<RetrievalSummary | null>(null)
  const job = ref<Job | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const target = computed<EmbeddingTarget | null>(() => (run.value && dataset.value ? { run: run.value, dataset: dataset.value, split: split.value } : null))
  const fail = (err: unknown): void => {
    error.value = err instanceof Error ? err.message : String(err)
  }

  /** On the first visit, the newest evaluation's run, dataset and split (what `equiav demo` just stored), so the views open with results. */
  async function refreshChoices(): Promise<void> {
    try {
      const first = !run.value && !dataset.value
      const evaluated = first ? await api.call('runs.retrieval', {}) : []
      ;[runs.value, datasets.value] = await Promise.all([api.call('runs.list', {}), api.call('datasets.list', {})])
      const newest = evaluated
        .flatMap((r) => (r.latest && datasets.value.some((d) => d.name === r.latest?.dataset) ? [r.latest] : []))
        .sort((a, b) => b.created.localeCompare(a.created))[0]
      if (newest) [run.value, dataset.value, split.value] = [newest.run, newest.dataset, newest.split]
      if (!run.value && runs.value.length) run.value = runs.value[runs.value.length - 1].name
      if (!dataset.value && datasets.value.length) dataset.value = datasets.value[0].name
    } catch (err) {
      fail(err)
    }
  }

  /** The stored embeddings of the target: metadata, then the points only when their version changed. */
  async function load(): Promise<void> {
    const t = target.value
    if (!t) return
    loading.value = true
    try {
      const [m, s] = await Promise.all([api.call('embeddings.map', t), api.call('retrieval.summary', t)])
      if (t !== target.value) return
      summary.value = s
      if (!m) {
        meta.value = null
        points.value = null
      } else if (m.version !== meta.value?.version || m.n !== meta.value?.n) {
        const bytes = await api.call('embeddings.points', t)
        if (t !== target.value) return
        points.value = decodeColumns(bytes, m.n, MAP_COLUMNS)
        meta.value = m
      }
      error.value = null
    } catch (err) {
      fail(err)
    } finally {
      loading.value = false
    }
  }

  async function compute(): Promise<void> {
    const t = target.value
    if (!t) return
    try {
      job.value = await api.call('analysis.embed', t)
      error.value = null
    } catch (err) {
      fail(err)
    }
  }

  async function cancel(id: string): Promise<void> {
    try {
      job.value = await api.call('jobs.cancel', { id })
    } catch (err) {
      fail(err)
    }
  }

  watch(target, () => {
    meta.value = null
    points.value = null
    summary.value = null
    job.value = null
    void load()
  })

  api.on('api.connected', () => void refreshChoices().then(load))
  api.on('job.state', (j) => {
    if (j.kind === 'pretrain' && j.state === 'done') void refreshChoices()
    if (j.id !== job.value?.id) return
    job.value = j
    if (j.state === 'done') void load()
    else if (j.state === 'failed') error.value = `computing the embeddings failed: ${j.error ?? 'see the job log'}`
  })
  api.on('job.progress', ({ id, progress, eta }) => {
    if (job.value && id === job.value.id) job.value = { ...job.value, progress, eta }
  })

  return { runs, datasets, run, dataset, split, target, meta, points, summary, job, loading, error, refreshChoices, load, compute, cancel }
})
