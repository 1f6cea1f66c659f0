/**
 * VGGSound's vggsound.csv: rows `YouTube ID,start seconds,label,train|test`, no header. The label strings
 * become the classes (sorted). The clip id is `<YTID>_<start, 6 digits>`, the name VGGSound's own
 * download uses (and CAV-MAE's VGGSound datafiles), since one video may give several clips.
 */
import type { ManifestRow, ManifestSource } from './manifest-import'
import { ManifestError, expectColumns, parseSeconds, readCsv } from './manifest-reader'

const COLUMNS = ['YTID', 'start_seconds', 'label', 'split'] as const

export function vggSoundSource(file: string): ManifestSource {
  return {
    file,
    format: 'vggsound',
    classes: null,
    async *rows(): AsyncGenerator<ManifestRow> {
      for await (const { where, fields } of readCsv(file)) {
        expectColumns(fields, COLUMNS, where)
        const [ytid, start, label, split] = fields
        const seconds = parseSeconds(start, 'start_seconds', where)
        if (!Number.isInteger(seconds)) throw new ManifestError(where, `start_seconds "${start}" is not a whole number of seconds`)
        if (split !== 'train' && split !== 'test') throw new ManifestError(where, `split "${split}" is neither train nor test`)
        if (label === '') throw new ManifestError(where, 'empty label')
        const id = `${ytid}_${String(seconds).padStart(6, '0')}`
        yield { where, id, labels: [label], split, stems: [id, `${ytid}_${seconds}`] }
      }
    }
  }
}
