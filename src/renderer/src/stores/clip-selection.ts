/**
 * What the user points at in the clip list, shared by the table and the grid: the focused index (arrow
 * keys), the multi-selection (clip ids: click, shift-click range, ctrl/cmd-click, `x`), and the edits made
 * on them (bulk relabel / split / exclude through datasets.editMany, `e` on the focused clip).
 */
import { defineStore, storeToRefs } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { ClipRow } from '../../../shared/contract'
import { type ClipEdit, useDatasetsStore } from './datasets'

export const useClipSelectionStore = defineStore('clip-selection', () => {
  const datasets = useDatasetsStore()
  const { selected: dataset, filter, sort, total, located } = storeToRefs(datasets)
  /** the list index the keyboard acts on */
  const focus = ref<number | null>(null)
  const chosen = ref(new Set<string>())
  /** where the last plain or ctrl click was: a shift-click selects from there */
  const anchor = ref<number | null>(null)
  const count = computed(() => chosen.value.size)

  const focusedRow = (): ClipRow | null => (focus.value === null ? null : datasets.rowAt(focus.value))

  /** Moves the focus by `delta` places, within the list. */
  function move(delta: number): void {
    if (!total.value) return
    const from = focus.value ?? (delta > 0 ? -1 : total.value)
    focus.value = Math.max(0, Math.min(total.value - 1, from + delta))
  }

  function toggle(id: string): void {
    const next = new Set(chosen.value)
    if (!next.delete(id)) next.add(id)
    chosen.value = next
  }

  /** Adds the clips from the anchor to `index` to the selection (their pages loaded when they are not). */
  async function selectRange(index: number): Promise<void> {
    const rows = await datasets.rowsBetween(anchor.value ?? index, index)
    chosen.value = new Set([...chosen.value, ...rows.map((r) => r.id)])
  }

  function clear(): void {
    chosen.value = new Set()
  }

  /** Applies an edit to every selected clip at once; the selection stays, to be edited further. */
  async function editSelection(change: ClipEdit): Promise<void> {
    await datasets.editClips([...chosen.value], change)
  }

  /** `e`: excludes the focused clip from training, or includes it again. */
  async function toggleExcluded(): Promise<void> {
    const row = focusedRow()
    if (row) await datasets.editClips([row.id], { excluded: !row.excluded })
  }

  // a new dataset forgets everything; a new filter or sort keeps the selection (ids) but not the focus (an index)
  watch(dataset, () => {
    clear()
    focus.value = anchor.value = null
  })
  watch([filter, sort], () => (focus.value = anchor.value = null), { deep: true })
  // the clip opened from a link takes the focus
  watch(located, (l) => l && (focus.value = anchor.value = l.index))

  return { focus, chosen, anchor, count, focusedRow, move, toggle, selectRange, clear, editSelection, toggleExcluded }
})
