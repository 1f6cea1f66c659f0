/**
 * The Datasets view's state: the dataset list, the selected dataset's info, the clip filter, and the
 * clip table's rows, fetched a page at a time as the virtual table scrolls to them (never all at once).
 */
import { defineStore } from 'pinia'
import { nextTick, ref, shallowRef, triggerRef, watch } from 'vue'
import type { ClipFilter, ClipRow, DatasetInfo, DatasetSummary } from '../../../shared/contract'
import { api } from '../api'

export const PAGE = 200

export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([])
  const selected = ref<string | null>(null)
  const info = ref<DatasetInfo | null>(null)
  const filter = ref<ClipFilter>({})
  /** clips matching the filter */
  const total = ref(0)
  /** loaded pages of the table, by page number */
  const pages = shallowRef(new Map<number, ClipRow[]>())
  const inspected = ref<ClipRow | null>(null)
  const error = ref<string | null>(null)
  const loading = new Set<number>()
  /** bumps on every reset, so a page from an older filter is dropped */
  let generation = 0

  const fail = (err: unknown): void => {
    error.value = err instanceof Error ? err.message : String(err)
  }

  async function refreshList(): Promise<void> {
    try {
      datasets.value = await api.call('datasets.list', {})
      if (!selected.value && datasets.value.length) selected.value = datasets.value[0].name
    } catch (err) {
      fail(err)
    }
  }

  async function refreshInfo(): Promise<void> {
    if (!selected.value) return
    try {
      info.value = await api.call('datasets.info', { dataset: selected.value })
      error.value = null
    } catch (err) {
      fail(err)
    }
  }

  /** Drops the loaded pages and loads the first one again (after a filter change, an edit or an import). */
  async function resetRows(): Promise<void> {
    generation++
    loading.clear()
    pages.value = new Map()
    await loadPage(0)
  }

  async function loadPage(n: number): Promise<void> {
    const dataset = selected.value
    if (!dataset || pages.value.has(n) || loading.has(n)) return
    loading.add(n)
    const gen = generation
    try {
      const got = await api.call('datasets.clips', { dataset, offset: n * PAGE, limit: PAGE, filter: filter.value })
      if (gen !== generation) return
      total.value = got.total
      pages.value.set(n, got.rows)
      triggerRef(pages)
    } catch (err) {
      fail(err)
    } finally {
      if (gen === generation) loading.delete(n)
    }
  }

  /** The row at a table index, or null while its page loads (the table asks for the page). */
  function rowAt(i: number): ClipRow | null {
    return pages.value.get(Math.floor(i / PAGE))?.[i % PAGE] ?? null
  }

  async function edit(change: { primary?: number; split?: 'train' | 'val' | 'test'; excluded?: boolean }): Promise<void> {
    const clip = inspected.value
    if (!clip || !selected.value) return
    try {
      const updated = await api.call('datasets.edit', { dataset: selected.value, clip: clip.id, ...change })
      inspected.value = updated
      // patch the row in place where it is loaded; counts change, so refresh the info
      for (const rows of pages.value.values()) {
        const i = rows.findIndex((r) => r.id === updated.id)
        if (i >= 0) rows[i] = updated
      }
      triggerRef(pages)
      await refreshInfo()
    } catch (err) {
      fail(err)
    }
  }

  /** Selects a dataset and inspects one of its clips (a link from another view). */
  async function openClip(dataset: string, clip: string): Promise<void> {
    try {
      const row = await api.call('datasets.clip', { dataset, clip })
      if (selected.value !== dataset) {
        selected.value = dataset
        await nextTick() // let the selection's reset run before the clip is set
      }
      inspected.value = row
    } catch (err) {
      fail(err)
    }
  }

  watch(selected, () => {
    inspected.value = null
    filter.value = {}
    void refreshInfo()
    void resetRows()
  })
  watch(filter, () => void resetRows(), { deep: true })

  // an import that ends changes the list and, for the selected dataset, its rows and report
  api.on('job.state', (j) => {
    if (j.kind !== 'import' || j.state === 'running' || j.state === 'queued') return
    void refreshList().then(() => {
      if (j.dataset === selected.value) {
        void refreshInfo()
        void resetRows()
      } else if (j.state === 'done' && j.dataset) selected.value = j.dataset
    })
  })
  api.on('api.connected', () => void refreshList())

  return { datasets, selected, info, filter, total, pages, inspected, error, refreshList, refreshInfo, resetRows, loadPage, rowAt, edit, openClip }
})
