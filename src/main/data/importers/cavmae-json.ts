/**
 * CAV-MAE / EquiAV JSON datafiles: `{"data":[{"video_id","wav","video_path","labels"}]}` with labels as
 * comma-separated class mids (resolved through class_labels_indices.csv). The official loaders read the
 * wav and `<video_path>/frame_k/<video_id>.jpg`; here the original video is looked for by video_id, and
 * the wav path is kept as the clip's path when it is not found. Shape errors name the JSON path.
 */
import { readFile } from 'node:fs/promises'
import type { Split } from '../catalog'
import type { ManifestRow, ManifestSource } from './manifest-import'
import { type ClassList, ManifestError, splitLabels } from './manifest-reader'

export interface CavMaeEntry {
  video_id: string
  wav: string
  video_path: string
  labels: string
}

const FIELDS = ['video_id', 'wav', 'video_path', 'labels'] as const

/** "at position N" of a JSON.parse message as line:column. */
function positionOf(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message)
  if (!m) return ''
  const before = text.slice(0, Number(m[1]))
  const line = before.split('\n').length
  return `:${line}:${Number(m[1]) - before.lastIndexOf('\n')}`
}

export async function readCavMaeDatafile(file: string): Promise<{ entries: CavMaeEntry[]; where: (i: number) => string }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ManifestError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ManifestError(`${file}${positionOf(text, (err as Error).message)}`, `not valid JSON (${(err as Error).message})`)
  }
  const data = (json as { data?: unknown } | null)?.data
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ManifestError(`${file}: $`, 'expected an object {"data": [...]}')
  if (!Array.isArray(data)) throw new ManifestError(`${file}: $.data`, 'expected an array of clips')
  data.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ManifestError(`${file}: $.data[${i}]`, 'expected an object {"video_id","wav","video_path","labels"}')
    for (const f of FIELDS) {
      const v = (entry as Record<string, unknown>)[f]
      if (typeof v !== 'string') throw new ManifestError(`${file}: $.data[${i}].${f}`, v === undefined ? 'missing' : `expected a string, found ${JSON.stringify(v)}`)
    }
    if ((entry as CavMaeEntry).video_id === '') throw new ManifestError(`${file}: $.data[${i}].video_id`, 'empty clip id')
  })
  return { entries: data as CavMaeEntry[], where: (i) => `${file}: $.data[${i}]` }
}

export function cavMaeSource(file: string, classes: ClassList, split: Split): ManifestSource {
  let read: ReturnType<typeof readCavMaeDatafile> | undefined
  return {
    file,
    format: 'cavmae',
    classes,
    async *rows(): AsyncGenerator<ManifestRow> {
      read ??= readCavMaeDatafile(file)
      const { entries, where } = await read
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]
        yield { where: `${where(i)}.labels`, id: e.video_id, labels: splitLabels(e.labels), split, stems: [e.video_id], path: e.wav }
      }
    }
  }
}
