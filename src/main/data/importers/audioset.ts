/**
 * AudioSet's segment lists (balanced_train_segments.csv, unbalanced_train_segments.csv, eval_segments.csv):
 * `#` comment lines, then `YTID, start_seconds, end_seconds, "positive_labels"` with the labels as
 * comma-separated mids resolved through class_labels_indices.csv. The clip id is the YTID, as in CAV-MAE's
 * AudioSet datafiles; a file list holds one split, given by the caller.
 */
import type { Split } from '../catalog'
import type { ManifestRow, ManifestSource } from './manifest-import'
import { type ClassList, ManifestError, expectColumns, parseSeconds, readCsv, splitLabels } from './manifest-reader'

const COLUMNS = ['YTID', 'start_seconds', 'end_seconds', 'positive_labels'] as const

/** Names a downloaded segment is commonly saved under: `<YTID>_<start as written>`, whole seconds, ms, or the bare YTID. */
export function segmentStems(ytid: string, start: string, startSeconds: number): string[] {
  const whole = Math.floor(startSeconds)
  return [...new Set([`${ytid}_${start}`, `${ytid}_${whole}`, `${ytid}_${String(whole).padStart(6, '0')}`, `${ytid}_${Math.round(startSeconds * 1000)}`, ytid])]
}

export function audioSetSource(file: string, classes: ClassList, split: Split): ManifestSource {
  return {
    file,
    format: 'audioset',
    classes,
    async *rows(): AsyncGenerator<ManifestRow> {
      for await (const { where, fields } of readCsv(file)) {
        expectColumns(fields, COLUMNS, where)
        const [id, start, end, labels] = fields
        const from = parseSeconds(start, 'start_seconds', where)
        if (parseSeconds(end, 'end_seconds', where) < from) throw new ManifestError(where, `end_seconds ${end} is before start_seconds ${start}`)
        yield { where, id, labels: splitLabels(labels), split, stems: segmentStems(id, start, from) }
      }
    }
  }
}
