/**
 * What the Retrieval and Embeddings views share: the chosen run, dataset and split; the stored
 * embeddings' map (ids, each clip's label, split and status now, and the coordinates of the chosen
 * projection as binary columns, fetched once per version and projection, with the progress of a UMAP
 * while the main process computes it); the true-pair ranks when asked for; the retrieval summary; the
 * embed job computing them, followed through the job events; and bulk edits of the map's clips.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { DatasetSummary, EmbeddingMapMeta, EmbeddingTarget, Job, MapProjection, MapTaskState, RetrievalSummary, RunRetrieval, RunSummary } from '../../../shared/contract'
import { MAP_COLUMNS, type MapColumn, decodeColumns } from '../../../shared/columns'
import { api } from '../api'
import type { TrueRanks } from '../lib/map-colours'
import type { ClipEdit } from './datasets'

export type MapPoints = Record<MapColumn, Float32Array>

const POLL_MS = 300
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const useAnalysisStore = defineStore('analysis', () => {
  const runs = ref<RunSummary[]>([])
  const datasets = ref<DatasetSummary[]>([])
  const run = ref<string | null>(null)
  const dataset = ref<string | null>(null)
  const split = ref<EmbeddingTarget['split']>('test')
  const meta = shallowRef<EmbeddingMapMeta | null>(null)
  const points = shallowRef<MapPoints | null>(null)
  const projection = ref<MapProjection>({ method: 'pca', space: 'joint', nNeighbors: 15, minDist: 0.1, seed: 0 })
  /** the projection's computation while it runs */
  const progress = ref<MapTaskState | null>(null)
  const ranks = shallowRef<TrueRanks | null>(null)
  const summary = shallowRef<RetrievalSummary | null>(null)
  const job = ref<Job | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const target = computed<EmbeddingTarget | null>(() => (run.value && dataset.value ? { run: run.value, dataset: dataset.value, split: split.value } : null))
  const fail = (err: unknown): void => {
    error.value = err instanceof Error ? err.message : String(err)
  }

  /**
   * On the first visit, the newest evaluation whose embeddings the run stores (what `equiav demo` just
   * stored), else the newest evaluation, so the views open with results.
   */
  async function refreshChoices(): Promise<void> {
    try {
      const first = !run.value && !dataset.value
      const evaluated = first ? await api.call('runs.retrieval', {}) : []
      ;[runs.value, datasets.value] = await Promise.all([api.call('runs.list', {}), api.call('datasets.list', {})])
      const shown = (e: RunRetrieval['evaluations'][number]): boolean => datasets.value.some((d) => d.name === e.dataset)
      const byDate = evaluated.flatMap((r) => r.evaluations.filter(shown).map((e) => ({ e, stored: r.embedded.includes(`${e.dataset}-${e.split}`) })))
      byDate.sort((a, b) => Number(b.stored) - Number(a.stored) || b.e.created.localeCompare(a.e.created))
      const newest = byDate[0]?.e
      if (newest) [run.value, dataset.value, split.value] = [newest.run, newest.dataset, newest.split]
      if (!run.value && runs.value.length) run.value = runs.value[runs.value.length - 1].name
      if (!dataset.value && datasets.value.length) dataset.value = datasets.value[0].name
    } catch (err) {
      fail(err)
    }
  }

  /** The projection's columns; its progress is polled while the request waits. */
  async function fetchPoints(t: EmbeddingTarget, n: number, p: MapProjection): Promise<MapPoints> {
    const input = { ...t, projection: p }
    let waiting = true
    void (async () => {
      while (waiting) {
        await sleep(POLL_MS)
        const state = waiting ? await api.call('embeddings.progress', input).catch(() => null) : null
        if (waiting && state?.state === 'computing') progress.value = state
      }
    })()
    try {
      return decodeColumns(await api.call('embeddings.points', input), n, MAP_COLUMNS)
    } finally {
      waiting = false
      progress.value = null
    }
  }

  let pointsKey = ''
  const keyOf = (m: EmbeddingMapMeta): string => JSON.stringify([m.version, m.n, projection.value])

  /** The stored embeddings of the target: metadata (labels, splits, status as the catalog has them now), then the points only when their version or the projection changed. */
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
        ranks.value = null
        pointsKey = ''
      } else {
        const key = keyOf(m)
        if (key !== pointsKey) {
          const p = await fetchPoints(t, m.n, projection.value)
          if (t !== target.value || key !== keyOf(m)) return // the projection changed meanwhile: its own load follows
          if (m.version !== meta.value?.version) ranks.value = null
          points.value = p
          pointsKey = key
        }
        meta.value = m
      }
      error.value = null
    } catch (err) {
      fail(err)
    } finally {
      loading.value = false
    }
  }

  /** each clip's true-pair rank, fetched once per embeddings version */
  async function loadRanks(): Promise<void> {
    const t = target.value
    if (!t || ranks.value) return
    try {
      const r = await api.call('embeddings.ranks', t)
      if (t === target.value) ranks.value = r
    } catch (err) {
      fail(err)
    }
  }

  /** One all-or-none edit of the given clips in the catalog; the map's colours and status follow. */
  async function editClips(clips: string[], change: ClipEdit): Promise<boolean> {
    const t = target.value
    if (!t || !clips.length) return false
    try {
      await api.call('datasets.editMany', { dataset: t.dataset, clips, ...change })
      await load()
      return true
    } catch (err) {
      fail(err)
      return false
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
    ranks.value = null
    pointsKey = ''
    summary.value = null
    job.value = null
    void load()
  })
  watch(projection, () => void load(), { deep: true })

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

  return { runs, datasets, run, dataset, split, target, meta, points, projection, progress, ranks, summary, job, loading, error, refreshChoices, load, loadRanks, editClips, compute, cancel }
})
