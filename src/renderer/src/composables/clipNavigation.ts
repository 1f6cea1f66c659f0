/**
 * Keyboard and mouse on the clip list, the same in the table and the grid (`perRow` clips a row: 1 in the
 * table): arrows move the focus (up and down by a row), Home / End, Enter opens the focused clip in the
 * inspector, space plays or stops its audio, `e` excludes or includes it, `x` adds it to the selection or
 * takes it out, Escape clears the selection. A click focuses and inspects a clip (and clears the selection),
 * ctrl/cmd-click adds or removes it, shift-click selects the range from the last click.
 */
import type { Ref } from 'vue'
import type { ClipRow } from '../../../shared/contract'
import { useClipSelectionStore } from '../stores/clip-selection'
import { useDatasetsStore } from '../stores/datasets'
import { usePreviewAudio } from './previewAudio'

/** the keys, as the help line under the list shows them */
export const KEY_HELP = '←↑↓→ move · Enter inspect · Space play/stop audio · e exclude/include · x select · shift/ctrl-click select a range/more · Esc clear selection'

export function useClipNavigation(perRow: Ref<number>): { onKeydown: (e: KeyboardEvent) => void; onClick: (index: number, row: ClipRow, e: MouseEvent) => void } {
  const datasets = useDatasetsStore()
  const selection = useClipSelectionStore()
  const audio = usePreviewAudio()

  const onFocused = (act: (row: ClipRow) => void): void => {
    const row = selection.focusedRow()
    if (row) act(row)
  }
  const actions: Record<string, () => void> = {
    ArrowDown: () => selection.move(perRow.value),
    ArrowUp: () => selection.move(-perRow.value),
    ArrowRight: () => selection.move(1),
    ArrowLeft: () => selection.move(-1),
    Home: () => selection.move(-Infinity),
    End: () => selection.move(Infinity),
    Enter: () => onFocused((row) => (datasets.inspected = row)),
    ' ': () => onFocused((row) => datasets.selected && audio.toggle(datasets.selected, row.id)),
    e: () => void selection.toggleExcluded(),
    x: () => onFocused((row) => selection.toggle(row.id)),
    Escape: () => selection.clear()
  }

  function onKeydown(e: KeyboardEvent): void {
    const act = e.ctrlKey || e.metaKey || e.altKey ? undefined : actions[e.key]
    if (!act) return
    e.preventDefault()
    act()
  }

  function onClick(index: number, row: ClipRow, e: MouseEvent): void {
    if (e.shiftKey) void selection.selectRange(index)
    else {
      if (e.ctrlKey || e.metaKey) selection.toggle(row.id)
      else {
        selection.clear()
        datasets.inspected = row
      }
      selection.anchor = index
    }
    selection.focus = index
  }

  return { onKeydown, onClick }
}
