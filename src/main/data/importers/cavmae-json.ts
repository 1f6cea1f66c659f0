/**
 * CAV-MAE / EquiAV JSON datafiles: `{"data":[{"video_id","wav","video_path","labels"}]}` with labels as
 * comma-separated class mids (resolved through class_labels_indices.csv). The official loaders read the
 * wav and `<video_path>/frame_k/<video_id>.jpg`; here the original video is looked for by video_id, and
 * the wav path is kept as the clip's path when it is not found. Shape errors name the JSON path. The file is
 * streamed (json-stream.ts), once per import pass.
 */
import type { Split } from '../catalog'
import type { ManifestRow, ManifestSource } from './manifest-import'
import { type ClassList, ManifestError, splitLabels } from './manifest-reader'
import { streamJsonArray } from './json-stream'

export interface CavMaeEntry {
  video_id: string
  wav: string
  video_path: string
  labels: string
}

const FIELDS = ['video_id', 'wav', 'video_path', 'labels'] as const

/** The datafile's entries in order, streamed (bounded memory at any size), each checked for its shape. */
export async function* readCavMaeDatafile(file: string): AsyncGenerator<{ entry: CavMaeEntry; where: string }> {
  let i = 0
  for await (const entry of streamJsonArray(file, 'data')) {
    const where = `${file}: $.data[${i}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ManifestError(where, 'expected an object {"video_id","wav","video_path","labels"}')
    for (const f of FIELDS) {
      const v = (entry as Record<string, unknown>)[f]
      if (typeof v !== 'string') throw new ManifestError(`${where}.${f}`, v === undefined ? 'missing' : `expected a string, found ${JSON.stringify(v)}`)
    }
    if ((entry as CavMaeEntry).video_id === '') throw new ManifestError(`${where}.video_id`, 'empty clip id')
    yield { entry: entry as CavMaeEntry, where }
    i++
  }
}

export function cavMaeSource(file: string, classes: ClassList, split: Split): ManifestSource {
  return {
    file,
    format: 'cavmae',
    classes,
    async *rows(): AsyncGenerator<ManifestRow> {
      for await (const { entry: e, where } of readCavMaeDatafile(file)) {
        yield { where: `${where}.labels`, id: e.video_id, labels: splitLabels(e.labels), split, stems: [e.video_id], path: e.wav }
      }
    }
  }
}
