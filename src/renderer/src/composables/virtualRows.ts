/**
 * The clip list virtualised, for the table (one clip a row) and the grid (`perRow` tiles a row): rows of a
 * fixed height, only those in view (plus a few) rendered, inside a spacer as tall as all of them; the pages
 * under the window are asked for as it scrolls; the focused clip is scrolled into view, and the clip opened
 * from a link to the middle.
 */
import { type Ref, computed, nextTick, onMounted, ref, useTemplateRef, watch } from 'vue'
import { storeToRefs } from 'pinia'
import type { ClipRow } from '../../../shared/contract'
import { useClipSelectionStore } from '../stores/clip-selection'
import { PAGE, useDatasetsStore } from '../stores/datasets'

const OVERSCAN = 4

export function useVirtualRows(o: { rowHeight: number; perRow: Ref<number>; height: () => number }) {
  const store = useDatasetsStore()
  const { total, located } = storeToRefs(store)
  const { focus } = storeToRefs(useClipSelectionStore())
  /** the scrolling element: the component's `ref="viewport"` */
  const viewport = useTemplateRef<HTMLElement>('viewport')
  const scrollTop = ref(0)

  const rows = computed(() => Math.ceil(total.value / o.perRow.value))
  const firstRow = computed(() => Math.max(0, Math.floor(scrollTop.value / o.rowHeight) - OVERSCAN))
  const lastRow = computed(() => Math.min(rows.value, Math.ceil((scrollTop.value + o.height()) / o.rowHeight) + OVERSCAN))
  const first = computed(() => firstRow.value * o.perRow.value)
  const last = computed(() => Math.min(total.value, lastRow.value * o.perRow.value))
  const visible = computed(() => {
    const out: { i: number; row: ClipRow | null }[] = []
    for (let i = first.value; i < last.value; i++) out.push({ i, row: store.rowAt(i) })
    return out
  })
  // ask for the pages under the window (loadPage ignores pages loaded or loading)
  watch(
    [first, last],
    ([a, b]) => {
      for (let p = Math.floor(a / PAGE); p <= Math.floor(Math.max(a, b - 1) / PAGE); p++) void store.loadPage(p)
    },
    { immediate: true }
  )

  /** where a clip's row starts, in pixels from the top of the list */
  const top = (i: number): number => Math.floor(i / o.perRow.value) * o.rowHeight
  const left = (i: number): number => i % o.perRow.value

  /** Scrolls a clip's row into view: just far enough, or to the middle. */
  function reveal(i: number, middle = false): void {
    const el = viewport.value
    if (!el) return
    const y = top(i)
    const h = o.height()
    if (middle) el.scrollTop = Math.max(0, y - (h - o.rowHeight) / 2)
    else if (y < el.scrollTop) el.scrollTop = y
    else if (y + o.rowHeight > el.scrollTop + h) el.scrollTop = y + o.rowHeight - h
    scrollTop.value = el.scrollTop
  }

  watch(focus, (i) => i !== null && void nextTick(() => reveal(i)))
  // (once the list knows enough clips to hold it: its answer and the first page may come in either order)
  watch([located, total], ([l, n]) => l && n > l.index && void nextTick(() => reveal(l.index, true)))
  // a list switched to (table ↔ grid) opens where the focus is, and keeps it in view when its width changes the tiles a row
  const revealCurrent = (): void => {
    const i = located.value?.index ?? focus.value
    if (i !== null) void nextTick(() => reveal(i, true))
  }
  onMounted(revealCurrent)
  watch(o.perRow, revealCurrent)

  const onScroll = (e: Event): void => {
    scrollTop.value = (e.target as HTMLElement).scrollTop
  }

  return { viewport, visible, spacerHeight: computed(() => rows.value * o.rowHeight), top, left, onScroll }
}
