/**
 * Exporting a dataset.
 *
 * CAV-MAE / EquiAV layout (what the official dataloaders read), for every usable clip (status ok, not
 * excluded):
 *   <out>/audio/<id>.wav               16 kHz mono 16-bit, the first channel (extract_audio.py)
 *   <out>/frames/frame_k/<id>.jpg      k = 0..9, 224×224: Resize 224 bicubic + CenterCrop (extract_video_frame.py)
 *   <out>/<split>.json                 {"data":[{"video_id","wav","video_path","labels"}]}, video_path = <out>/frames,
 *                                      labels = comma-separated mids
 *   <out>/class_labels_indices.csv     index,mid,display_name
 * Classes without an ontology id (folder or VGGSound imports) use their name as mid, or `/equiav/<index>`
 * where the name holds a comma or quote (the loaders split labels on commas). Ids holding a path separator
 * (folder imports) have it replaced by `__` to stay one file name. Every file is written atomically and a
 * clip whose wav and ten frames are already there is not extracted again, so an export resumes.
 *
 * CSV: <out>/clips.csv with one row per clip, whatever its status; labels are class names separated by ";".
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeFileAtomic, writeJsonAtomic, writeLinesAtomic } from '../util/atomic'
import type { Catalog, ClipRecord, Split } from './catalog'
import { decodeAudio, encodeJpegs, extractFrames } from './ffmpeg'
import { MediaError, type QuarantineReason } from './media-types'
import { encodeWav16 } from './wav'

export const CAVMAE_FRAMES = 10
export const CAVMAE_FRAME_SIZE = 224
export const CAVMAE_SAMPLE_RATE = 16000

/** A clip id as one file name. */
export function exportId(id: string): string {
  return id.replace(/[/\\]/g, '__')
}

/** The mid written for each class: its ontology id, else a name the loaders can split on commas. */
export function exportMids(names: string[], mids: (string | null)[]): string[] {
  return names.map((name, i) => mids[i] ?? (/[,"]/.test(name) || name.trim() === '' ? `/equiav/${i}` : name))
}

/** One CSV field, quoted where it must be ("" for a quote inside). */
export function csvField(value: string): string {
  return /[",\n\r]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

export function classLabelsCsv(names: string[], mids: string[]): string[] {
  return ['index,mid,display_name', ...names.map((n, i) => `${i},${csvField(mids[i])},"${n.replace(/"/g, '""')}"`)]
}

export interface CavMaePaths {
  wav: string
  frames: string[]
}

export function cavMaePaths(out: string, id: string): CavMaePaths {
  const name = exportId(id)
  return {
    wav: join(out, 'audio', `${name}.wav`),
    frames: Array.from({ length: CAVMAE_FRAMES }, (_, k) => join(out, 'frames', `frame_${k}`, `${name}.jpg`))
  }
}

export interface ExportProgress {
  done: number
  total: number
}

export interface ExportFailure {
  id: string
  reason: QuarantineReason
  detail: string
}

export interface CavMaeExportOptions {
  catalog: Catalog
  out: string
  /** clips extracted at once (each runs two ffmpeg processes) */
  concurrency?: number
  onProgress?: (p: ExportProgress) => void
  signal?: AbortSignal
}

export interface CavMaeExportResult {
  /** clips in the datafiles */
  exported: number
  /** of those, clips whose files were already there */
  reused: number
  /** usable clips whose media failed to decode (left out of the datafiles) */
  failed: ExportFailure[]
  /** clips not exported: not ok (quarantined, missing) or excluded */
  left: number
  /** datafile path per split */
  datafiles: Partial<Record<Split | 'unsplit', string>>
  stopped: boolean
}

async function extractClip(clip: ClipRecord, paths: CavMaePaths, signal?: AbortSignal): Promise<void> {
  const samples = await decodeAudio(clip.path, { sampleRate: CAVMAE_SAMPLE_RATE, signal })
  const frames = await extractFrames(clip.path, { count: CAVMAE_FRAMES, size: CAVMAE_FRAME_SIZE, signal })
  const jpegs = await encodeJpegs(frames, CAVMAE_FRAME_SIZE, CAVMAE_FRAME_SIZE, { signal })
  // the wav last: a clip counts as done when its wav and frames all exist
  for (let k = 0; k < jpegs.length; k++) await writeFileAtomic(paths.frames[k], jpegs[k])
  await writeFileAtomic(paths.wav, encodeWav16(samples, CAVMAE_SAMPLE_RATE))
}

export async function exportCavMae(o: CavMaeExportOptions): Promise<CavMaeExportResult> {
  const out = resolve(o.out)
  await mkdir(join(out, 'audio'), { recursive: true })
  for (let k = 0; k < CAVMAE_FRAMES; k++) await mkdir(join(out, 'frames', `frame_${k}`), { recursive: true })
  const names = o.catalog.classes()
  const mids = exportMids(names, o.catalog.classMids())
  const clips = o.catalog.list({ status: 'ok', excluded: false })
  const result: CavMaeExportResult = { exported: 0, reused: 0, failed: [], left: o.catalog.counts().total - clips.length, datafiles: {}, stopped: false }
  const exported = new Set<string>()

  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < clips.length && !o.signal?.aborted) {
      const clip = clips[next++]
      const paths = cavMaePaths(out, clip.id)
      try {
        if ([paths.wav, ...paths.frames].every((p) => existsSync(p))) result.reused++
        else await extractClip(clip, paths, o.signal)
        exported.add(clip.id)
      } catch (err) {
        if (o.signal?.aborted) break
        if (!(err instanceof MediaError)) throw err
        result.failed.push({ id: clip.id, reason: err.reason, detail: err.message.slice(clip.path.length + 2) })
      }
      o.onProgress?.({ done: ++done, total: clips.length })
    }
  }
  await Promise.all(Array.from({ length: o.concurrency ?? 2 }, worker))
  if (o.signal?.aborted) return { ...result, stopped: true }

  const bySplit = new Map<Split | 'unsplit', { video_id: string; wav: string; video_path: string; labels: string }[]>()
  for (const clip of clips) {
    if (!exported.has(clip.id)) continue
    const split = clip.split ?? 'unsplit'
    if (!bySplit.has(split)) bySplit.set(split, [])
    bySplit.get(split)!.push({
      video_id: exportId(clip.id),
      wav: cavMaePaths(out, clip.id).wav,
      video_path: join(out, 'frames'),
      labels: clip.labels.map((l) => mids[l]).join(',')
    })
  }
  for (const [split, data] of bySplit) {
    const file = join(out, `${split}.json`)
    await writeJsonAtomic(file, { data })
    result.datafiles[split] = file
  }
  await writeLinesAtomic(join(out, 'class_labels_indices.csv'), classLabelsCsv(names, mids))
  result.exported = exported.size
  return result
}

export const CSV_COLUMNS = ['id', 'path', 'labels', 'split', 'status', 'reason', 'detail', 'excluded'] as const

/** <out>/clips.csv: every clip with its class names (separated by ";", since AudioSet names hold commas), split, status, reason and exclusion. */
export async function exportCsv(catalog: Catalog, out: string): Promise<{ file: string; rows: number }> {
  await mkdir(out, { recursive: true })
  const names = catalog.classes()
  const file = join(resolve(out), 'clips.csv')
  let rows = 0
  function* lines(): Generator<string> {
    yield CSV_COLUMNS.join(',')
    for (const c of catalog.each()) {
      rows++
      const labels = c.labels.map((l) => names[l] ?? String(l)).join(';')
      yield [c.id, c.path, labels, c.split ?? '', c.status, c.reason ?? '', c.detail ?? '', c.excluded ? '1' : '0'].map(csvField).join(',')
    }
  }
  await writeLinesAtomic(file, lines())
  return { file, rows }
}
