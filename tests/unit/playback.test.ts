/**
 * Playback of every clip: which files Chromium plays as they are (decided from real ffprobe output), the
 * transcode cache (key, atomic write, one shared transcode, queue, failure), ffmpeg's H.264/AAC transcode, and
 * the media endpoint / datasets.playback serving it with byte ranges.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaHandler } from '../../src/main/api/media'
import { ClipPlayback } from '../../src/main/api/playback'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { Catalog } from '../../src/main/data/catalog'
import { ClipFeatureStore } from '../../src/main/data/clip-features'
import { DatasetCatalogs } from '../../src/main/data/datasets'
import { probeMedia, transcodeToMp4 } from '../../src/main/data/ffmpeg'
import { importFolder } from '../../src/main/data/importers/folder'
import { playability } from '../../src/main/data/playability'
import { TranscodeCache, type TranscodeSource, type Transcoder, transcodeName } from '../../src/main/data/transcode-cache'
import { JobRunner } from '../../src/main/jobs/runner'
import { mediaPath } from '../../src/shared/media'
import { createMediaDir, type MediaDir } from '../helpers/media'
import { finished } from '../helpers/transcodes'

let media: MediaDir
let files: Record<string, string>

beforeAll(async () => {
  media = createMediaDir('equiav-playback-')
  const specs = {
    'h264.mp4': { name: 'h264.mp4' },
    'vp8.webm': { name: 'vp8.webm' },
    'cinepak.mkv': { name: 'cinepak.mkv', duration: 2, video: { codec: 'cinepak' }, audio: { codec: 'pcm_u8', sampleRate: 8000 } },
    'msvideo1.mkv': { name: 'msvideo1.mkv', video: { codec: 'msvideo1' } },
    'mjpeg.avi': { name: 'mjpeg.avi', video: { codec: 'mjpeg', pixFmt: 'yuvj420p' }, audio: { codec: 'pcm_u8' } },
    'h264.avi': { name: 'h264.avi', video: { codec: 'libx264' } },
    'h264.mkv': { name: 'h264.mkv' },
    'tone.wav': { name: 'tone.wav' },
    'tone.mp3': { name: 'tone.mp3' }
  }
  const paths = await media.makeAll(Object.values(specs))
  files = Object.fromEntries(Object.keys(specs).map((k, i) => [k, paths[i]]))
}, 120_000)

afterAll(() => media?.cleanup())

describe('playability', () => {
  it('plays MP4/WebM/WAV/MP3 as they are and names what Chromium cannot play, from real ffprobe output', async () => {
    const decide = async (name: string) => {
      const p = await probeMedia(files[name])
      return playability({ formatName: p.formatName, video: p.video?.codec, audio: p.audio?.codec })
    }
    expect(await decide('h264.mp4')).toEqual({ playable: true, type: 'video/mp4' })
    expect(await decide('vp8.webm')).toEqual({ playable: true, type: 'video/webm' })
    expect(await decide('tone.wav')).toEqual({ playable: true, type: 'audio/wav' })
    expect(await decide('tone.mp3')).toEqual({ playable: true, type: 'audio/mpeg' })
    expect(await decide('cinepak.mkv')).toEqual({ playable: false, original: 'cinepak video and pcm_u8 audio in Matroska' })
    expect(await decide('msvideo1.mkv')).toEqual({ playable: false, original: 'msvideo1 video and mp3 audio in Matroska' })
    expect(await decide('mjpeg.avi')).toEqual({ playable: false, original: 'mjpeg video and pcm_u8 audio in AVI' })
    expect(await decide('h264.avi')).toEqual({ playable: false, original: 'h264 video and pcm_s16le audio in AVI' })
    // Matroska is played only as WebM: H.264 in it is transcoded
    expect(await decide('h264.mkv')).toEqual({ playable: false, original: 'h264 video and mp3 audio in Matroska' })
  })

  it('needs every stream playable in its container', () => {
    const mp4 = 'mov,mp4,m4a,3gp,3g2,mj2'
    expect(playability({ formatName: mp4, video: 'h264' })).toEqual({ playable: true, type: 'video/mp4' })
    expect(playability({ formatName: mp4, audio: 'aac' })).toEqual({ playable: true, type: 'video/mp4' })
    expect(playability({ formatName: mp4, video: 'mpeg4', audio: 'aac' })).toEqual({ playable: false, original: 'mpeg4 video and aac audio in MP4/QuickTime' })
    expect(playability({ formatName: mp4, video: 'h264', audio: 'pcm_s16le' }).playable).toBe(false)
    expect(playability({ formatName: 'matroska,webm', video: 'vp9', audio: 'opus' })).toEqual({ playable: true, type: 'video/webm' })
    expect(playability({ formatName: 'matroska,webm', video: 'vp9', audio: 'mp3' }).playable).toBe(false)
    expect(playability({ formatName: 'wav', video: 'h264', audio: 'pcm_s16le' }).playable).toBe(false)
    expect(playability({ formatName: 'ogg', audio: 'opus' })).toEqual({ playable: true, type: 'audio/ogg' })
    expect(playability({ formatName: 'ogg', video: 'theora', audio: 'vorbis' })).toEqual({ playable: false, original: 'theora video and vorbis audio in Ogg' })
    expect(playability({ formatName: 'mp4' })).toEqual({ playable: false, original: 'no stream in mp4' })
  })
})

describe('transcode cache', () => {
  const source = (path: string, size = 10, mtimeMs = 1): TranscodeSource => ({ path, size, mtimeMs, duration: 2 })

  it('names a copy by the source path, size and modification time', () => {
    const a = transcodeName(source('/d/a.avi'))
    expect(a).toMatch(/^[0-9a-f]{32}\.mp4$/)
    expect(transcodeName(source('/d/a.avi'))).toBe(a)
    expect(new Set([a, transcodeName(source('/d/b.avi')), transcodeName(source('/d/a.avi', 11)), transcodeName(source('/d/a.avi', 10, 2))]).size).toBe(4)
  })

  /** A transcoder that writes the source's name, after `gate` opens, checking it writes to a temporary file. */
  function stub(gate: Promise<void>) {
    const calls: string[] = []
    const transcode: Transcoder = async (src, out, { onProgress }) => {
      calls.push(src)
      onProgress?.(0.25)
      await gate
      writeFileSync(out, `copy of ${src}`)
    }
    return { calls, transcode }
  }

  it('shares one transcode between concurrent requests, queues others, and renames a complete file into place', async () => {
    const dir = join(media.dir, 'cache-shared')
    let open!: () => void
    const gate = new Promise<void>((ok) => (open = ok))
    const { calls, transcode } = stub(gate)
    const cache = new TranscodeCache(transcode, 1)
    const a = source('/src/a.avi')
    const b = source('/src/b.avi')
    const first = await Promise.all([cache.request(dir, a), cache.request(dir, a), cache.request(dir, b)])
    expect(first.map((s) => s.state)).toEqual(['queued', 'queued', 'queued'])
    await new Promise((ok) => setTimeout(ok, 20))
    expect(await cache.request(dir, a)).toEqual({ state: 'transcoding', percent: 25 })
    expect(await cache.request(dir, b)).toEqual({ state: 'queued' })
    // while it runs, only a temporary file exists: the copy's own name appears complete or not at all
    expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).toEqual([])
    open()
    expect(await finished(cache, dir, a)).toEqual({ state: 'ready', path: join(dir, transcodeName(a)) })
    expect(await finished(cache, dir, b)).toEqual({ state: 'ready', path: join(dir, transcodeName(b)) })
    expect(calls).toEqual(['/src/a.avi', '/src/b.avi'])
    expect(readFileSync(join(dir, transcodeName(a)), 'utf8')).toBe('copy of /src/a.avi')
    expect(readdirSync(dir).sort()).toEqual([transcodeName(a), transcodeName(b)].sort())
    // a later process finds the copy on disk and does not transcode again
    const later = new TranscodeCache(stub(Promise.resolve()).transcode)
    expect(await later.request(dir, a)).toEqual({ state: 'ready', path: join(dir, transcodeName(a)) })
  })

  it('keeps a failed transcode failed with its reason and leaves no file behind', async () => {
    const dir = join(media.dir, 'cache-failed')
    let tries = 0
    const cache = new TranscodeCache(async (_src, out) => {
      tries++
      writeFileSync(out, 'half a file')
      throw new Error('ffmpeg could not transcode it: Invalid data found when processing input')
    })
    const s = source('/src/bad.avi')
    expect(await finished(cache, dir, s)).toEqual({ state: 'failed', reason: 'ffmpeg could not transcode it: Invalid data found when processing input' })
    expect(await cache.request(dir, s)).toMatchObject({ state: 'failed' })
    expect(tries).toBe(1)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('ffmpeg transcode', () => {
  it('turns a cinepak/pcm_u8 Matroska into an H.264/AAC MP4, reporting progress', async () => {
    const out = join(media.dir, 'cinepak.mp4')
    const fractions: number[] = []
    await transcodeToMp4(files['cinepak.mkv'], out, { duration: 2, onProgress: (f) => fractions.push(f) })
    const p = await probeMedia(out)
    expect(playability({ formatName: p.formatName, video: p.video?.codec, audio: p.audio?.codec })).toEqual({ playable: true, type: 'video/mp4' })
    expect(p.video).toMatchObject({ codec: 'h264', width: 64, height: 48 })
    expect(p.duration).toBeCloseTo(2, 0)
    expect(fractions.length).toBeGreaterThan(0)
    expect(Math.max(...fractions)).toBeGreaterThan(0.9)
  })

  it('fails with ffmpeg’s reason, without the file path', async () => {
    const bad = join(media.dir, 'noise.avi')
    writeFileSync(bad, Buffer.alloc(4096, 7))
    const err = await transcodeToMp4(bad, join(media.dir, 'noise.mp4'), { duration: 1 }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/^ffmpeg could not transcode it: ./)
    expect((err as Error).message).not.toContain(media.dir)
  })
})

describe('media endpoint and datasets.playback', () => {
  let workspace: string
  let handler: ReturnType<typeof createMediaHandler>
  let router: ReturnType<typeof createRouter>
  let playback: ClipPlayback

  beforeAll(async () => {
    workspace = join(media.dir, 'ws')
    const src = join(media.dir, 'real')
    mkdirSync(join(src, 'x'), { recursive: true })
    for (const name of ['cinepak.mkv', 'mjpeg.avi', 'h264.mp4']) renameSync(files[name], join(src, 'x', name))
    const catalog = Catalog.open(join(workspace, 'datasets', 'd'))
    await importFolder({ root: src, catalog, testFraction: 0 })
    catalog.close()
    const catalogs = new DatasetCatalogs(workspace)
    playback = new ClipPlayback(workspace)
    handler = createMediaHandler(workspace, catalogs, new ClipFeatureStore(), playback)
    router = createRouter(workspaceServices(workspace, '1', new JobRunner(workspace), catalogs, playback))
  }, 60_000)

  it('serves a playable file as it is, with its type', async () => {
    expect(await router('datasets.playback', { dataset: 'd', clip: 'x/h264.mp4' })).toEqual({ state: 'original' })
    const r = await handler(mediaPath('d', 'x/h264.mp4', 'video'))
    expect(r.status).toBe(200)
    expect(r.headers['Content-Type']).toBe('video/mp4')
    expect(r.body).toMatchObject({ path: join(media.dir, 'real', 'x', 'h264.mp4') })
  })

  it('answers 503 with progress while a clip is transcoded, then serves the cached MP4 with byte ranges', async () => {
    const first = await handler(mediaPath('d', 'x/mjpeg.avi', 'video'))
    expect(first.status).toBe(503)
    expect(first.headers['Retry-After']).toBe('1')
    expect(String(first.body)).toMatch(/x\/mjpeg\.avi: mjpeg video and pcm_u8 audio in AVI is being transcoded for playback \((queued for transcoding|transcoding, \d+%)\)/)
    // the method shares the transcode the endpoint started
    expect(await router('datasets.playback', { dataset: 'd', clip: 'x/mjpeg.avi' })).toMatchObject({ state: expect.stringMatching(/^(queued|transcoding)$/), original: 'mjpeg video and pcm_u8 audio in AVI' })
    const cacheDir = join(workspace, 'datasets', 'd', 'playback')
    const file = join(media.dir, 'real', 'x', 'mjpeg.avi')
    const { size, mtimeMs } = statSync(file)
    expect(await finished(playback.transcodes, cacheDir, { path: file, size, mtimeMs, duration: 1 })).toMatchObject({ state: 'ready' })
    expect(await router('datasets.playback', { dataset: 'd', clip: 'x/mjpeg.avi' })).toEqual({ state: 'ready', original: 'mjpeg video and pcm_u8 audio in AVI' })
    const cached = join(cacheDir, transcodeName({ path: file, size, mtimeMs }))
    const whole = await handler(mediaPath('d', 'x/mjpeg.avi', 'video'))
    expect(whole).toMatchObject({ status: 200, headers: { 'Content-Type': 'video/mp4' }, body: { path: cached, start: 0 } })
    const part = await handler(mediaPath('d', 'x/mjpeg.avi', 'video'), 'bytes=100-199')
    expect(part.status).toBe(206)
    expect(part.headers['Content-Range']).toMatch(/^bytes 100-199\/\d+$/)
    expect(part.body).toEqual({ path: cached, start: 100, end: 199, release: expect.any(Function) })
    // the copy is held for the cache's cap while either response streams it, until both have ended
    const release = (r: typeof whole): void => void (r.body as { release: () => void }).release()
    expect(playback.transcodes.inUse(cached)).toBe(true)
    release(whole)
    release(whole) // a second call (an error after the end) changes nothing
    expect(playback.transcodes.inUse(cached)).toBe(true)
    release(part)
    expect(playback.transcodes.inUse(cached)).toBe(false)
    expect((await probeMedia(cached)).video?.codec).toBe('h264')
  })
})
