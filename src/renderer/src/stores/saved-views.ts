/**
 * Saved views of the clip list: a filter (with its search) and a sort under a name, per dataset, kept in
 * this browser's localStorage (`equiav.saved-views`; not in the workspace, so not shared between machines).
 * Saving under a name already used replaces that view; an entry that no longer parses is left out.
 */
import { defineStore, storeToRefs } from 'pinia'
import { computed } from 'vue'
import { z } from 'zod'
import { ClipFilterSchema, ClipSortSchema } from '../../../shared/contract'
import { persisted } from '../lib/persisted'
import { useDatasetsStore } from './datasets'

const SavedViewSchema = z.object({ name: z.string().min(1), filter: ClipFilterSchema, sort: ClipSortSchema })
export type SavedView = z.infer<typeof SavedViewSchema>

export const useSavedViewsStore = defineStore('saved-views', () => {
  const datasets = useDatasetsStore()
  const { selected, filter, sort } = storeToRefs(datasets)
  const state = persisted('equiav.saved-views', { byDataset: {} as Record<string, unknown[]> })

  /** the selected dataset's views, by name */
  const views = computed<SavedView[]>(() =>
    (selected.value ? (state.value.byDataset[selected.value] ?? []) : [])
      .map((v) => SavedViewSchema.safeParse(v))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.name.localeCompare(b.name))
  )

  function write(list: SavedView[]): void {
    if (selected.value) state.value = { byDataset: { ...state.value.byDataset, [selected.value]: list } }
  }

  /** Saves the current filter and sort under a name. */
  function save(name: string): void {
    const n = name.trim()
    if (n) write([...views.value.filter((v) => v.name !== n), { name: n, filter: { ...filter.value }, sort: { ...sort.value } }])
  }

  function apply(name: string): void {
    const v = views.value.find((x) => x.name === name)
    if (!v) return
    filter.value = { ...v.filter }
    sort.value = { ...v.sort }
  }

  function remove(name: string): void {
    write(views.value.filter((v) => v.name !== name))
  }

  return { views, save, apply, remove }
})
