/**
 * The Datasets view's state: the dataset list, the selected dataset's info, the clip filter and sort, and the
 * clip list's rows (shown as a table or a grid), fetched a page at a time as the list scrolls to them (never
 * all at once); the clip opened from a link, located in that list.
 */
import { defineStore } from 'pinia'
import { nextTick, ref, shallowRef, triggerRef, watch } from 'vue'
import type { ClipFilter, ClipRow, ClipSort, DatasetInfo, DatasetSummary, Input } from '../../../shared/contract'
import { api } from '../api'

export const PAGE = 200

/** An edit of clips as datasets.editMany takes it. */
export type ClipEdit = Omit<Input<'datasets.editMany'>, 'dataset' | 'clips'>

export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([])
  const selected = ref<string | null>(null)
  const info = ref<DatasetInfo | null>(null)
  const filter = ref<ClipFilter>({})
  const sort = ref<ClipSort>({ by: 'import', desc: false })
  /** clips matching the filter */
  const total = ref(0)
  /** loaded pages of the table, by page number */
  const pages = shallowRef(new Map<number, ClipRow[]>())
  const inspected = ref<ClipRow | null>(null)
  const error = ref<string | null>(null)
  /** the clip opened from a link, and its index in the list (what the list scrolls to and highlights) */
  const located = ref<{ id: string; index: number } | null>(null)
  const loading = new Map<number, Promise<void>>()
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

  /** Loads a page of rows unless it is loaded; resolves when it is (a page already loading is waited for). */
  function loadPage(n: number): Promise<void> {
    const dataset = selected.value
    if (!dataset || pages.value.has(n)) return Promise.resolve()
    const pending = loading.get(n)
    if (pending) return pending
    const gen = generation
    const load = (async () => {
      try {
        const got = await api.call('datasets.clips', { dataset, offset: n * PAGE, limit: PAGE, filter: filter.value, sort: sort.value })
        if (gen !== generation) return
        total.value = got.total
        pages.value.set(n, got.rows)
        triggerRef(pages)
      } catch (err) {
        fail(err)
      } finally {
        if (gen === generation) loading.delete(n)
      }
    })()
    loading.set(n, load)
    return load
  }

  /** The rows at indices from..to (inclusive, in list order), loading their pages. */
  async function rowsBetween(from: number, to: number): Promise<ClipRow[]> {
    const [a, b] = [Math.max(0, Math.min(from, to)), Math.min(total.value - 1, Math.max(from, to))]
    const wanted = Array.from({ length: Math.floor(b / PAGE) - Math.floor(a / PAGE) + 1 }, (_, k) => Math.floor(a / PAGE) + k)
    await Promise.all(wanted.map(loadPage))
    const out: ClipRow[] = []
    for (let i = a; i <= b; i++) {
      const row = rowAt(i)
      if (row) out.push(row)
    }
    return out
  }

  /** The row at a table index, or null while its page loads (the table asks for the page). */
  function rowAt(i: number): ClipRow | null {
    return pages.value.get(Math.floor(i / PAGE))?.[i % PAGE] ?? null
  }

  /**
   * One edit of several clips, all or none (datasets.editMany): a new primary label (the others kept), a
   * split, exclusion. Loaded rows are patched where they are (the list is not re-filtered under the user's
   * eyes); counts change, so the info is refreshed. Resolves to whether it was applied.
   */
  async function editClips(clips: string[], change: ClipEdit): Promise<boolean> {
    if (!clips.length || !selected.value) return false
    try {
      const { rows: updated } = await api.call('datasets.editMany', { dataset: selected.value, clips, ...change })
      const byId = new Map(updated.map((r) => [r.id, r]))
      for (const rows of pages.value.values()) rows.forEach((r, i) => byId.has(r.id) && (rows[i] = byId.get(r.id)!))
      triggerRef(pages)
      if (inspected.value && byId.has(inspected.value.id)) inspected.value = byId.get(inspected.value.id)!
      await refreshInfo()
      return true
    } catch (err) {
      fail(err)
      return false
    }
  }

  /** The inspector's edit of its clip. */
  async function edit(change: ClipEdit): Promise<void> {
    if (inspected.value) await editClips([inspected.value.id], change)
  }

  /**
   * Selects a dataset, inspects one of its clips (a link from another view) and locates it in the list under
   * the current sort, and the current filter when that keeps it (else without filter).
   */
  async function openClip(dataset: string, clip: string): Promise<void> {
    try {
      const row = await api.call('datasets.clip', { dataset, clip })
      if (selected.value !== dataset) {
        selected.value = dataset
        await nextTick() // let the selection's reset run before the clip is set
      }
      inspected.value = row
      let { index } = await api.call('datasets.position', { dataset, clip, filter: filter.value, sort: sort.value })
      if (index === null) {
        filter.value = {}
        await nextTick()
        ;({ index } = await api.call('datasets.position', { dataset, clip, filter: {}, sort: sort.value }))
      }
      located.value = index === null ? null : { id: clip, index }
    } catch (err) {
      fail(err)
    }
  }

  watch(selected, () => {
    inspected.value = null
    located.value = null
    filter.value = {}
    void refreshInfo()
    void resetRows()
  })
  watch(
    [filter, sort],
    () => {
      located.value = null
      void resetRows()
    },
    { deep: true }
  )

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

  return { datasets, selected, info, filter, sort, total, pages, inspected, located, error, refreshList, refreshInfo, resetRows, loadPage, rowAt, rowsBetween, edit, editClips, openClip }
})
