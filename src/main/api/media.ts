/**
 * The media endpoint, shared by `serve` (/media/…) and Electron's equiav-media: protocol. A request names a
 * dataset and a clip id; the file read is the one the catalog holds for that clip, never a path from the
 * request, so nothing outside the registered datasets can be reached; and only a usable (`ok`) clip whose
 * path still resolves to the file probed at import (no symlink swapped in since). A video Chromium cannot
 * play is served as its cached transcode (playback.ts), held for the playback cache's cap until the response
 * ends; until that is made, the answer is 503 with its progress.
 * Thumbnails are made once and kept on disk (data/thumb-cache.ts).
 */
import { realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetCatalogs } from '../data/datasets'
import { CatalogBusyError, type ClipRecord } from '../data/catalog'
import { ClipFeatureStore } from '../data/clip-features'
import { decodeAudio } from '../data/ffmpeg'
import { framePng, spectrogramPng } from '../data/images'
import { ThumbCache } from '../data/thumb-cache'
import type { TranscodeCache } from '../data/transcode-cache'
import { encodeWav16 } from '../data/wav'
import { datasetDir } from '../workspace'
import { ClipPlayback } from './playback'

export interface MediaReply {
  status: number
  headers: Record<string, string>
  /** bytes, or a byte range [start, end] of the clip's own file or its transcode */
  body: Buffer | { path: string; start: number; end: number; /** to call when the response has ended */ release?: () => void }
}

const text = (status: number, message: string): MediaReply => ({ status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from(message) })
const bytes = (type: string, body: Buffer): MediaReply => ({ status: 200, headers: { 'Content-Type': type, 'Cache-Control': 'private, max-age=3600' }, body })

/** '/media/<dataset>/<clip>/<what…>' → its parts, or null. */
export function parseMediaPath(pathname: string): { dataset: string; clipId: string; what: string } | null {
  const parts = pathname.split('/')
  if (parts.length < 5 || parts[0] !== '' || parts[1] !== 'media') return null
  try {
    return { dataset: decodeURIComponent(parts[2]), clipId: decodeURIComponent(parts[3]), what: parts.slice(4).join('/') }
  } catch {
    return null
  }
}

/** Why a clip's media is not served, with the HTTP status that says so. */
export class UnservedError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

/** The clip's file as probed at import; throws UnservedError when it is not served. */
export async function servedFile(clip: ClipRecord): Promise<string> {
  if (clip.status !== 'ok') throw new UnservedError(422, `${clip.id}: ${clip.status === 'missing' ? 'not downloaded' : `quarantined (${clip.reason})`}; its media is not served`)
  const real = await realpath(clip.path).catch(() => null)
  if (real === null) throw new UnservedError(404, `${clip.id}: its file is gone`)
  // catalogs written before real paths were kept: the path itself must be the file (no symlink)
  if (real !== (clip.realPath ?? clip.path)) throw new UnservedError(403, `${clip.id}: its path no longer leads to the file probed at import; import the dataset again to serve it`)
  return real
}

/** A file with byte ranges: the clip's own, or its transcode. */
async function fileReply(clipId: string, file: { path: string; type: string }, range: string | undefined): Promise<MediaReply> {
  const { path, type } = file
  const size = (await stat(path)).size
  if (size === 0) return text(422, `${clipId}: the file is empty`)
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null
  if (!m || (m[1] === '' && m[2] === '')) return { status: 200, headers: { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': String(size) }, body: { path, start: 0, end: size - 1 } }
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1])
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]))
  if (start > end || start >= size) return { status: 416, headers: { 'Content-Range': `bytes */${size}` }, body: Buffer.alloc(0) }
  return {
    status: 206,
    headers: { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) },
    body: { path, start, end }
  }
}

/** A reply streaming a transcode: the copy is held (the cap never removes it) until the response ends. */
async function heldReply(transcodes: TranscodeCache, path: string, reply: () => Promise<MediaReply>): Promise<MediaReply> {
  const release = transcodes.hold(path)
  let r: MediaReply
  try {
    r = await reply()
  } catch (err) {
    release()
    throw err
  }
  if (!Buffer.isBuffer(r.body)) return { ...r, body: { ...r.body, release } }
  release()
  return r
}

/** The clip's video as Chromium plays it: its file, its transcode, or why there is none yet. */
async function videoReply(playback: ClipPlayback, dataset: string, clip: ClipRecord, range: string | undefined): Promise<MediaReply> {
  const play = await playback.of(dataset, clip.path, clip.duration)
  const file = play.file
  if (file) return play.playback.state === 'ready' ? heldReply(playback.transcodes, file.path, () => fileReply(clip.id, file, range)) : fileReply(clip.id, file, range)
  const p = play.playback
  if (p.state === 'failed') return text(422, `${clip.id}: ${p.original} cannot be played and its transcode failed: ${p.reason}`)
  const progress = p.state === 'transcoding' ? `transcoding, ${p.percent}%` : 'queued for transcoding'
  return { ...text(503, `${clip.id}: ${p.original} is being transcoded for playback (${progress})`), headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' } }
}

export type MediaHandler = (pathname: string, range?: string) => Promise<MediaReply>

/** Whether every % escape of a path decodes. */
function wellFormed(pathname: string): boolean {
  try {
    decodeURIComponent(pathname)
    return true
  } catch {
    return false
  }
}

export function createMediaHandler(
  workspace: string,
  catalogs = new DatasetCatalogs(workspace),
  features = new ClipFeatureStore(),
  playback = new ClipPlayback(workspace),
  thumbs = new ThumbCache()
): MediaHandler {
  return async (pathname, range) => {
    const req = parseMediaPath(pathname)
    if (!req) return wellFormed(pathname) ? text(404, 'not found') : text(400, 'malformed % escape in the media path')
    let found: ClipRecord | null
    try {
      found = await catalogs.use(req.dataset, (c) => c.get(req.clipId))
    } catch (err) {
      if (err instanceof CatalogBusyError) return text(503, err.message)
      return text(404, `no dataset "${req.dataset}"`)
    }
    if (!found) return text(404, `dataset "${req.dataset}" has no clip "${req.clipId}"`)
    let clip: ClipRecord
    try {
      clip = { ...found, path: await servedFile(found) }
    } catch (err) {
      if (err instanceof UnservedError) return text(err.status, err.message)
      throw err
    }
    const what = req.what
    try {
      if (what === 'video') return await videoReply(playback, req.dataset, clip, range)
      if (what === 'audio.wav') return bytes('audio/wav', Buffer.from(encodeWav16(await decodeAudio(clip.path), 16000)))
      if (what === 'thumb.jpg') return bytes('image/jpeg', await thumbs.get(join(datasetDir(workspace, req.dataset), 'thumbs'), clip.path))
      const frame = /^frame\/(\d+)\.png$/.exec(what)
      if (what === 'spectrogram.png' || frame) {
        const f = await features.get(datasetDir(workspace, req.dataset), clip)
        const s = f.settings
        if (!frame) return bytes('image/png', spectrogramPng(f.fbank, s.targetLength, s.numMelBins))
        const k = Number(frame[1])
        if (k >= f.frames.length) return text(404, `clip "${clip.id}" has ${f.frames.length} frames (0–${f.frames.length - 1})`)
        return bytes('image/png', framePng(f.frames[k], s.frameSize, s.frameSize))
      }
    } catch (err) {
      return text(422, `${clip.id}: ${err instanceof Error ? err.message : String(err)}`)
    }
    return text(404, `no media "${what}" (video, audio.wav, thumb.jpg, spectrogram.png, frame/<k>.png)`)
  }
}
