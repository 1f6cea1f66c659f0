/**
 * Media IO through ffmpeg/ffprobe (fluent-ffmpeg): probe, decode audio, extract frames, thumbnails.
 * Everything streams through pipes (no temp files), and each ffmpeg process is killed when its
 * caller fails or aborts. Failures that are the file's fault become MediaError with a QuarantineReason.
 */
import { spawn } from 'node:child_process'
import { accessSync, chmodSync, constants, statSync } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { Readable, Writable } from 'node:stream'
import ffmpeg, { type FfmpegCommand, type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg'
import { MediaError, type MediaProbe } from './media-types'
import { cavMaeFrameIndices, resizeCropFilters, selectFramesFilter } from './frames'

// -------------------------------------------------------------------------------------------- binaries

const requireHere = createRequire(import.meta.url)

/** A binary shipped in an npm package; a packaged Electron app keeps it outside the asar archive. */
function installerBinary(pkg: string): string {
  return (requireHere(pkg) as { path: string }).path.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1')
}

/** $FFMPEG_PATH, or the binary from @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  return process.env.FFMPEG_PATH || installerBinary('@ffmpeg-installer/ffmpeg')
}

let executableProbe: string | undefined

/**
 * $FFPROBE_PATH, or the binary from @ffprobe-installer/ffprobe. That package ships it without the
 * execute bit and relies on a postinstall chmod, which npm may skip: we chmod it ourselves.
 */
export function ffprobePath(): string {
  const path = process.env.FFPROBE_PATH || installerBinary('@ffprobe-installer/ffprobe')
  if (path === executableProbe) return path
  try {
    accessSync(path, constants.X_OK)
  } catch {
    try {
      chmodSync(path, statSync(path).mode | 0o111)
      accessSync(path, constants.X_OK)
    } catch (err) {
      throw new Error(
        `ffprobe at ${path} is not executable and could not be made so (${(err as Error).message}); ` +
          `run "chmod +x ${path}" or set FFPROBE_PATH to a working ffprobe`,
        { cause: err }
      )
    }
  }
  executableProbe = path
  return path
}

// -------------------------------------------------------------------------------------- file checks

/**
 * The file as ffmpeg should read it: absolute (no leading "-") with the file: protocol, so that
 * names containing ":" are not taken for a protocol.
 */
function ffmpegInput(file: string): string {
  return `file:${resolve(file)}`
}

/** Container signatures: a file that has one but will not open is corrupt rather than not media. */
function hasMediaSignature(head: Uint8Array): boolean {
  const ascii = (from: number, to: number): string => String.fromCharCode(...head.subarray(from, to))
  const box = ascii(4, 8)
  return (
    ['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip', 'pnot'].includes(box) || // ISO BMFF / QuickTime
    (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) || // EBML: mkv, webm
    ['RIFF', 'OggS', 'fLaC', 'FORM', 'caff'].includes(ascii(0, 4)) ||
    ['ID3', 'FLV'].includes(ascii(0, 3)) ||
    (head[0] === 0xff && (head[1] & 0xe0) === 0xe0) || // MPEG audio / ADTS frame sync
    (head[0] === 0x00 && head[1] === 0x00 && head[2] === 0x01 && head[3] === 0xba) || // MPEG program stream
    (head[0] === 0x30 && head[1] === 0x26 && head[2] === 0xb2 && head[3] === 0x75) || // ASF / WMV
    (head[0] === 0x47 && head.length > 188 && head[188] === 0x47) // MPEG transport stream
  )
}

const HEAD_BYTES = 192

/** Fails with unreadable / directory / corrupt (empty) before any process starts; returns the first bytes. */
async function readHead(file: string): Promise<Uint8Array> {
  let info
  try {
    info = await stat(file)
  } catch (err) {
    throw new MediaError(file, 'unreadable', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (info.isDirectory()) throw new MediaError(file, 'directory', 'is a directory')
  if (!info.isFile()) throw new MediaError(file, 'unreadable', 'is not a regular file')
  if (info.size === 0) throw new MediaError(file, 'corrupt', 'is empty (0 bytes)')
  try {
    const handle = await open(file, 'r')
    try {
      const head = new Uint8Array(HEAD_BYTES)
      const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0)
      return head.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw new MediaError(file, 'unreadable', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

/** The last line ffmpeg/ffprobe wrote that says something, for the quarantine detail. */
function lastMessage(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
  return lines[lines.length - 1] ?? 'ffmpeg failed without a message'
}

/** Why ffmpeg could not open or decode a file that exists and is not empty. */
function openFailure(file: string, head: Uint8Array, stderr: string): MediaError {
  // MediaError already names the file
  const detail = lastMessage(stderr.split(`${ffmpegInput(file)}: `).join(''))
  return new MediaError(file, hasMediaSignature(head) ? 'corrupt' : 'not-media', detail)
}

// ---------------------------------------------------------------------------------------------- probe

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN
  return Number.isFinite(n) ? n : undefined
}

/** "30000/1001" → 29.97; "0/0" → undefined */
function rate(v: unknown): number | undefined {
  if (typeof v !== 'string') return num(v)
  const [a, b] = v.split('/').map(Number)
  const r = b === undefined ? a : a / b
  return Number.isFinite(r) && r > 0 ? r : undefined
}

/** Demuxers that open stills or text rather than clips. */
const NOT_CLIP_FORMATS = /^(tty|image2|.*_pipe)$/

/** Below this ffprobe itself calls the format guess unreliable (AVPROBE_SCORE_RETRY). */
const MIN_PROBE_SCORE = 26

function probeOf(file: string, data: FfprobeData): MediaProbe {
  const formatName = String(data.format.format_name ?? '')
  if (NOT_CLIP_FORMATS.test(formatName)) throw new MediaError(file, 'not-media', `opens as "${formatName}", not an audio/video clip`)
  const score = num(data.format.probe_score)
  if (score !== undefined && score < MIN_PROBE_SCORE) throw new MediaError(file, 'not-media', `format guess "${formatName}" is unreliable (probe score ${score})`)
  const a = data.streams.find((s) => s.codec_type === 'audio')
  // cover art in audio files is a one-picture "video" stream
  const v = data.streams.find((s) => s.codec_type === 'video' && num(s.disposition?.attached_pic) !== 1)
  if (!a && !v) throw new MediaError(file, 'not-media', 'has no audio or video stream')
  const streamDurations = [a, v].map((s) => num(s?.duration)).filter((d): d is number => d !== undefined)
  const duration = num(data.format.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : undefined)
  if (duration === undefined || duration <= 0) throw new MediaError(file, 'corrupt', 'has no duration')
  const probe: MediaProbe = { path: file, duration, formatName }
  if (a) {
    probe.audio = { codec: String(a.codec_name ?? 'unknown'), sampleRate: num(a.sample_rate) ?? 0, channels: num(a.channels) ?? 0 }
    const d = num(a.duration)
    if (d !== undefined) probe.audio.duration = d
  }
  if (v) probe.video = videoOf(v)
  return probe
}

function videoOf(v: FfprobeStream): NonNullable<MediaProbe['video']> {
  // ffmpeg rotates displaymatrix-tagged video when decoding, so report the displayed size
  const rotation = num(v.rotation) ?? num((v.tags as Record<string, unknown> | undefined)?.rotate) ?? 0
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1
  const w = num(v.width) ?? 0
  const h = num(v.height) ?? 0
  const video: NonNullable<MediaProbe['video']> = {
    codec: String(v.codec_name ?? 'unknown'),
    width: quarterTurn ? h : w,
    height: quarterTurn ? w : h,
    fps: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate) ?? 0
  }
  const frames = num(v.nb_frames)
  if (frames !== undefined && frames > 0) video.frames = frames
  const d = num(v.duration)
  if (d !== undefined) video.duration = d
  return video
}

/** ffprobe one file. Throws MediaError (unreadable, directory, corrupt, not-media) when it cannot be used. */
export async function probeMedia(file: string): Promise<MediaProbe> {
  const head = await readHead(file)
  const data = await new Promise<FfprobeData>((done, fail) => {
    ffmpeg(ffmpegInput(file))
      .setFfprobePath(ffprobePath())
      .ffprobe(['-hide_banner', '-v', 'error'], (err: Error | null, result: FfprobeData) => {
        if (err) fail(err.message.startsWith('ffprobe exited with code') ? openFailure(file, head, err.message) : err)
        else done(result)
      })
  })
  return probeOf(file, data)
}

// ---------------------------------------------------------------------------------------- full decode

/** ffmpeg's own lines without the decoder instance address: "[aac @ 0x3763] Reserved bit set." → "[aac] Reserved bit set." */
function decoderMessages(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/^\[(\w+) @ 0x[0-9a-f]+\]/, '[$1]').trim())
    .filter((l) => l && !/^Last message repeated/.test(l))
}

/**
 * What a full decode's stderr says is wrong with the file's packets: ffmpeg's lines, less the null muxer's
 * own complaints (non-monotonic timestamps of an audio stream that was looped when the file was made: every
 * packet decodes, a player shows it as usual).
 */
export function decodeProblems(stderr: string): string[] {
  return decoderMessages(stderr).filter((l) => !l.startsWith('[null]'))
}

/**
 * Decodes every audio and video packet of the file (to ffmpeg's null muxer) and throws a 'corrupt'
 * MediaError carrying ffmpeg's first messages when any packet fails: a clip damaged in the middle opens and
 * probes cleanly, and ffmpeg, which conceals the damage and exits 0, only says so on stderr.
 */
export function checkFullDecode(file: string, { signal }: RunOptions = {}): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-i', ffmpegInput(file), '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'], signal })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString()
    })
    child.on('error', (err) => fail(signal?.aborted ? (signal.reason ?? err) : err))
    child.on('close', (code) => {
      const messages = decodeProblems(stderr)
      if (code === 0 && messages.length === 0) return done()
      const shown = messages.slice(0, 2).join('; ') || `ffmpeg exited with code ${code}`
      fail(new MediaError(file, 'corrupt', `does not decode cleanly: ${shown}${messages.length > 2 ? ` (and ${messages.length - 2} more ffmpeg messages)` : ''}`))
    })
  })
}

// ------------------------------------------------------------------------------------------ transcode

export interface TranscodeOptions extends RunOptions {
  /** the source's duration in seconds, to turn ffmpeg's output time into a fraction */
  duration: number
  /** called with the fraction done, 0–1, as ffmpeg reports it (about twice a second) */
  onProgress?: (fraction: number) => void
}

/**
 * The file's first video and audio stream as an MP4 any browser plays: H.264 (yuv420p, even size) and AAC,
 * its index first so playback starts before the whole file is read. Written to `out`; rejects with ffmpeg's
 * first error messages.
 */
export function transcodeToMp4(file: string, out: string, { duration, onProgress, signal }: TranscodeOptions): Promise<void> {
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error', '-i', ffmpegInput(file),
    '-map', '0:v:0?', '-map', '0:a:0?', '-sn', '-dn',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2',
    '-c:a', 'aac', '-b:a', '128k',
    '-movflags', '+faststart', '-progress', 'pipe:1', '-f', 'mp4', '-y', ffmpegInput(out)
  ]
  return new Promise((done, fail) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], signal })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      // -progress writes key=value lines; out_time_ms is in microseconds despite its name
      const us = [...d.toString().matchAll(/^out_time_ms=(\d+)$/gm)].pop()?.[1]
      if (us !== undefined && duration > 0) onProgress?.(Math.min(1, Number(us) / 1e6 / duration))
    })
    child.on('error', (err) => fail(signal?.aborted ? (signal.reason ?? err) : err))
    child.on('close', (code) => {
      if (code === 0) return done()
      // the reason is shown in the workbench, which never sees file paths
      const messages = decoderMessages(stderr.split(`${ffmpegInput(file)}: `).join('').split(`${ffmpegInput(out)}: `).join(''))
      fail(new Error(`ffmpeg could not transcode it: ${messages.slice(0, 2).join('; ') || `exited with code ${code}`}`))
    })
  })
}

// ----------------------------------------------------------------------------------------------- run

export interface RunOptions {
  /** aborting kills the ffmpeg process and rejects with the signal's reason */
  signal?: AbortSignal
}

/** A fluent-ffmpeg command on one input with our binary and quiet logging. */
function command(file: string): FfmpegCommand {
  return ffmpeg(ffmpegInput(file)).setFfmpegPath(ffmpegPath()).inputOptions(['-hide_banner', '-nostdin', '-v', 'error'])
}

/** How a failed run on a media file reads: the stream is missing, or the file is corrupt / not media. */
function fileFailure(file: string, head: Uint8Array, noStream: MediaError): (stderr: string) => Error {
  return (log) => (/matches no streams/.test(log) ? noStream : openFailure(file, head, log))
}

/**
 * Runs a command whose output goes to stdout and gathers it. Resolves once ffmpeg has exited
 * cleanly and every byte has arrived; on any failure the process is SIGKILLed.
 */
function collect(cmd: FfmpegCommand, failure: (stderr: string) => Error, { signal }: RunOptions): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    let exited = false
    let drained = false
    let settled = false
    const settle = (err?: unknown): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) return done(Buffer.concat(chunks))
      cmd.kill('SIGKILL')
      fail(err)
    }
    const onAbort = (): void => settle(signal?.reason ?? new Error('aborted'))
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    // emitClose off: fluent-ffmpeg treats a closed output as a failure if ffmpeg has not exited yet
    const sink = new Writable({
      emitClose: false,
      write(chunk: Buffer, _encoding, next) {
        chunks.push(chunk)
        next()
      }
    })
    sink.on('finish', () => {
      drained = true
      if (exited) settle()
    })
    cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      if (!err.message.startsWith('ffmpeg exited with code')) return settle(err)
      settle(failure(stderr ?? err.message))
    })
    cmd.on('end', () => {
      exited = true
      if (drained) settle()
    })
    // fluent-ffmpeg spawns asynchronously: a caller that gave up before that still ends the process
    cmd.on('start', () => {
      if (settled) cmd.kill('SIGKILL')
    })
    cmd.pipe(sink, { end: true })
  })
}

// ----------------------------------------------------------------------------------------------- audio

export interface DecodeAudioOptions extends RunOptions {
  /** Hz (default 16000) */
  sampleRate?: number
}

/**
 * The first audio stream's FIRST channel (as the official pipeline keeps channel 0; not a downmix),
 * resampled to `sampleRate`, as float32 in [−1, 1].
 */
export async function decodeAudio(file: string, { sampleRate = 16000, signal }: DecodeAudioOptions = {}): Promise<Float32Array> {
  const head = await readHead(file)
  const cmd = command(file).outputOptions([
    '-map', '0:a:0',
    '-af', 'pan=mono|c0=c0',
    '-ar', String(sampleRate),
    '-c:a', 'pcm_f32le',
    '-f', 'f32le'
  ])
  const bytes = await collect(cmd, fileFailure(file, head, new MediaError(file, 'no-audio', 'has no audio stream')), { signal })
  const samples = new Float32Array(Math.floor(bytes.byteLength / 4))
  new Uint8Array(samples.buffer).set(bytes.subarray(0, samples.length * 4))
  // a lossy decoder can overshoot full scale a little; 16-bit extraction clips it
  for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-1, Math.min(1, samples[i]))
  return samples
}

// ---------------------------------------------------------------------------------------------- frames

/** The video's frame count as OpenCV reports it: the container's count, else duration × fps rounded. */
function frameCountOf(probe: MediaProbe): number {
  const video = probe.video as NonNullable<MediaProbe['video']>
  return video.frames ?? Math.floor((video.duration ?? probe.duration) * video.fps + 0.5)
}

async function videoProbe(file: string, probe: MediaProbe | undefined): Promise<MediaProbe> {
  const p = probe ?? (await probeMedia(file))
  if (!p.video) throw new MediaError(file, 'no-video', 'has no video stream')
  if (!(p.video.fps > 0)) throw new MediaError(file, 'corrupt', 'video stream has no frame rate')
  return p
}

/**
 * Decodes from the start (output-side selection: no keyframe seeking, so exact frame numbers) and
 * keeps the frames numbered `indices`, each shaped by `filters` and encoded as `codecArgs`.
 * Returns one buffer per distinct index, in ascending index order.
 */
async function grabFrames(file: string, indices: readonly number[], filters: string[], codecArgs: string[], frameBytes: number | undefined, options: RunOptions): Promise<Buffer[]> {
  const head = await readHead(file)
  const distinct = new Set(indices).size
  const cmd = command(file)
    .videoFilters([selectFramesFilter(indices), ...filters])
    .outputOptions(['-map', '0:v:0', '-an', '-sn', '-dn', '-vsync', '0', '-frames:v', String(distinct), ...codecArgs])
  const bytes = await collect(cmd, fileFailure(file, head, new MediaError(file, 'no-video', 'has no video stream')), options)
  if (frameBytes === undefined) return bytes.byteLength ? [bytes] : []
  const out: Buffer[] = []
  for (let at = 0; at + frameBytes <= bytes.byteLength; at += frameBytes) out.push(bytes.subarray(at, at + frameBytes))
  return out
}

export interface ExtractFramesOptions extends RunOptions {
  /** frames to take, evenly spaced over the first 10 s (default 10) */
  count?: number
  /** output side: Resize(size) bicubic + CenterCrop(size) (default 224) */
  size?: number
  /** reuse a probe the caller already has */
  probe?: MediaProbe
}

/**
 * The clip's `count` frames as CAV-MAE's extract_video_frame.py picks them (see cavMaeFrameIndices),
 * resized and centre-cropped like torchvision, as RGB24 bytes [size, size, 3] each.
 * If the stream holds fewer frames than its header claims, the last frame found stands in for the rest.
 */
export async function extractFrames(file: string, options: ExtractFramesOptions = {}): Promise<Uint8Array[]> {
  return (await extractTimedFrames(file, options)).frames
}

/** extractFrames, with each frame's time in seconds (its frame number / fps). */
export async function extractTimedFrames(file: string, { count = 10, size = 224, probe, signal }: ExtractFramesOptions = {}): Promise<{ frames: Uint8Array[]; seconds: number[] }> {
  const p = await videoProbe(file, probe)
  const fps = (p.video as NonNullable<MediaProbe['video']>).fps
  const indices = cavMaeFrameIndices(frameCountOf(p), fps, count)
  const frameBytes = size * size * 3
  const got = await grabFrames(file, indices, resizeCropFilters(size), ['-pix_fmt', 'rgb24', '-f', 'rawvideo'], frameBytes, { signal })
  if (got.length === 0) throw new MediaError(file, 'corrupt', 'no video frame could be decoded')
  const distinct = [...new Set(indices)].sort((a, b) => a - b)
  return { frames: indices.map((n) => new Uint8Array(got[Math.min(distinct.indexOf(n), got.length - 1)])), seconds: indices.map((n) => n / fps) }
}

export interface ThumbnailOptions extends RunOptions {
  /** pixels; the height keeps the aspect ratio (default 320) */
  width?: number
  probe?: MediaProbe
}

/** A JPEG of the clip's middle frame among the 10 (frame_5, the one the model sees at test time). */
export async function thumbnail(file: string, { width = 320, probe, signal }: ThumbnailOptions = {}): Promise<Buffer> {
  const p = await videoProbe(file, probe)
  const indices = cavMaeFrameIndices(frameCountOf(p), (p.video as NonNullable<MediaProbe['video']>).fps)
  const middle = indices[Math.floor(indices.length / 2)]
  // if the header overstates the frame count, fall back to the first frame
  for (const n of middle > 0 ? [middle, 0] : [0]) {
    const [jpeg] = await grabFrames(file, [n], [`scale=${width}:-2:flags=bicubic`], ['-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2pipe'], undefined, { signal })
    if (jpeg) return jpeg
  }
  throw new MediaError(file, 'corrupt', 'no video frame could be decoded')
}

// ------------------------------------------------------------------------------------------------ jpeg

export interface EncodeJpegOptions extends RunOptions {
  /** ffmpeg's mjpeg -q:v, 2 (best) to 31 (default 2) */
  quality?: number
}

/** The byte ranges of the JPEG images in an mjpeg stream: each runs from SOI (FF D8) to its EOI (FF D9). */
function splitJpegs(stream: Buffer): Buffer[] {
  const out: Buffer[] = []
  let start = 0
  // inside a JPEG, 0xFF in entropy-coded data is stuffed (FF 00), so FF D9 only ends an image
  for (let at = stream.indexOf(0xff, 2); at >= 0 && at + 1 < stream.length; at = stream.indexOf(0xff, at + 1)) {
    if (stream[at + 1] !== 0xd9) continue
    out.push(stream.subarray(start, at + 2))
    start = at + 2
    at++
  }
  return out
}

/** RGB24 images [height, width, 3] (all one size) → one JPEG each, through one ffmpeg process fed on stdin. */
export async function encodeJpegs(images: Uint8Array[], width: number, height: number, { quality = 2, signal }: EncodeJpegOptions = {}): Promise<Buffer[]> {
  if (images.length === 0) return []
  const bad = images.findIndex((im) => im.byteLength !== width * height * 3)
  if (bad >= 0) throw new Error(`encodeJpegs: image ${bad} has ${images[bad].byteLength} bytes, expected ${width}×${height}×3`)
  const cmd = ffmpeg(Readable.from([Buffer.concat(images)]))
    .setFfmpegPath(ffmpegPath())
    .inputOptions(['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`])
    .outputOptions(['-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'image2pipe'])
  const jpegs = splitJpegs(await collect(cmd, (log) => new Error(`ffmpeg could not encode JPEG: ${lastMessage(log)}`), { signal }))
  if (jpegs.length !== images.length) throw new Error(`encodeJpegs: ffmpeg returned ${jpegs.length} images for ${images.length}`)
  return jpegs
}
