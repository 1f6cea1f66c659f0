/**
 * Small synthetic media for tests, made with ffmpeg's lavfi sources in a temp folder:
 * any container/codec pair the bundled ffmpeg writes, chosen sizes, rates, channel counts and
 * lengths, plus broken files (empty, truncated, random bytes, text named like a video, damaged mid-file).
 *
 *   const media = createMediaDir()
 *   const clip = await media.make({ name: 'a.mp4', duration: 1, audio: { frequencies: [440, 1000] } })
 *   const bad = await media.broken('truncated', 'cut.mp4')
 *   media.cleanup()
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { promisify } from 'node:util'
import { ffmpegPath } from '../../src/main/data/ffmpeg'

const run = promisify(execFile)

export interface VideoSpec {
  /** default 64 × 48; odd sizes are fine (H.264 then switches to 4:4:4) */
  width?: number
  height?: number
  /** default 10 */
  fps?: number
  /** a solid colour (ffmpeg colour syntax: "red", "0x3366CC") instead of the moving test pattern */
  color?: string
  /**
   * A grey ramp instead: frame n has luma 16 + rampStep·n, so which frame a decoder returned
   * can be read back from its brightness (RGB ≈ rampStep·n·255/219).
   */
  rampStep?: number
  /** lavfi filters applied after the source, e.g. drawbox */
  filters?: string[]
  /** encoder; default from the container */
  codec?: string
  pixFmt?: string
}

export interface AudioSpec {
  /** Hz, default 44100 */
  sampleRate?: number
  /** one sine per channel (Hz); its length is the channel count. Default [440] */
  frequencies?: number[]
  /** peak of each sine, default 0.5 */
  amplitude?: number
  /** encoder; default from the container */
  codec?: string
}

export interface MediaSpec {
  /** file name inside the media folder (any Unicode); its extension picks the container */
  name: string
  /** seconds, default 1 */
  duration?: number
  /** false for audio-only; default a 64×48 10 fps test pattern where the container holds video */
  video?: VideoSpec | false
  /** false for video-only; default a 440 Hz mono sine */
  audio?: AudioSpec | false
  /** mp4/mov: put the index first (a truncated file then still opens) */
  faststart?: boolean
  /**
   * mp4/mov: display rotation (clockwise), written into the video track header's matrix as phones
   * do; the bundled ffmpeg 4.1 drops a `rotate` tag, so the file is patched after writing
   */
  rotate?: 90 | 180 | 270
}

export type BrokenKind = 'empty' | 'truncated' | 'random' | 'text' | 'corrupt-middle'

interface ContainerDefaults {
  format: string
  video?: string
  audio: string
}

/** Container per extension with codecs the bundled ffmpeg writes. */
export const CONTAINERS: Record<string, ContainerDefaults> = {
  mp4: { format: 'mp4', video: 'libx264', audio: 'aac' },
  mov: { format: 'mov', video: 'libx264', audio: 'aac' },
  mkv: { format: 'matroska', video: 'libx264', audio: 'libmp3lame' },
  webm: { format: 'webm', video: 'libvpx', audio: 'libvorbis' },
  avi: { format: 'avi', video: 'mpeg4', audio: 'pcm_s16le' },
  wav: { format: 'wav', audio: 'pcm_s16le' },
  mp3: { format: 'mp3', audio: 'libmp3lame' },
  m4a: { format: 'ipod', audio: 'aac' },
  ogg: { format: 'ogg', audio: 'libvorbis' },
  flac: { format: 'flac', audio: 'flac' }
}

const LAYOUTS: Record<number, string> = { 1: 'mono', 2: 'stereo', 3: '2.1', 4: 'quad', 5: '5.0', 6: '5.1', 7: '6.1', 8: '7.1' }

/** The lavfi graph for the video; `pixFmt` is fixed inside it because sources round odd sizes to their default format's chroma grid. */
function videoSource(v: VideoSpec, duration: number, pixFmt: string | undefined): string {
  const size = `${v.width ?? 64}x${v.height ?? 48}`
  const fps = v.fps ?? 10
  const base =
    v.rampStep !== undefined
      ? `color=c=black:s=${size}:r=${fps}:d=${duration},format=yuv444p,geq=lum='16+${v.rampStep}*N':cb=128:cr=128`
      : v.color !== undefined
        ? `color=c=${v.color}:s=${size}:r=${fps}:d=${duration}`
        : `testsrc2=s=${size}:r=${fps}:d=${duration}`
  return [base, ...(v.filters ?? []), ...(pixFmt ? [`format=${pixFmt}`] : [])].join(',')
}

function audioSource(a: AudioSpec, duration: number): string {
  const freqs = a.frequencies ?? [440]
  const layout = LAYOUTS[freqs.length]
  if (!layout) throw new Error(`no channel layout for ${freqs.length} channels`)
  const amp = a.amplitude ?? 0.5
  const exprs = freqs.map((f) => `${amp}*sin(2*PI*${f}*t)`).join('|')
  return `aevalsrc=exprs='${exprs}':s=${a.sampleRate ?? 44100}:c=${layout}:d=${duration}`
}

function pixFmtFor(codec: string, v: VideoSpec): string | undefined {
  if (v.pixFmt) return v.pixFmt
  const odd = (v.width ?? 64) % 2 === 1 || (v.height ?? 48) % 2 === 1
  if (codec === 'libx264') return odd ? 'yuv444p' : 'yuv420p'
  return ['libvpx', 'mpeg4'].includes(codec) ? 'yuv420p' : undefined
}

/** ffmpeg arguments that write `spec` to `out`. */
export function mediaArgs(spec: MediaSpec, out: string): string[] {
  const ext = extname(spec.name).slice(1).toLowerCase()
  const container = CONTAINERS[ext]
  if (!container) throw new Error(`no container known for ".${ext}" (known: ${Object.keys(CONTAINERS).join(', ')})`)
  const duration = spec.duration ?? 1
  const video = spec.video === undefined ? (container.video ? {} : false) : spec.video
  const audio = spec.audio === undefined ? {} : spec.audio
  if (!video && !audio) throw new Error(`${spec.name}: neither video nor audio`)
  const videoCodec = video ? (video.codec ?? container.video) : undefined
  if (video && !videoCodec) throw new Error(`${spec.name}: give video.codec, ".${ext}" has no default video codec`)
  const args = ['-hide_banner', '-v', 'error', '-nostdin', '-y']
  const maps: string[] = []
  if (video && videoCodec) {
    args.push('-f', 'lavfi', '-i', videoSource(video, duration, pixFmtFor(videoCodec, video)))
    maps.push('-map', `${maps.length / 2}:v`)
  }
  if (audio) {
    args.push('-f', 'lavfi', '-i', audioSource(audio, duration))
    maps.push('-map', `${maps.length / 2}:a`)
  }
  args.push(...maps)
  if (videoCodec) {
    args.push('-c:v', videoCodec)
    if (videoCodec === 'libx264') args.push('-preset', 'ultrafast')
    if (videoCodec === 'libvpx') args.push('-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k')
  }
  if (audio) args.push('-c:a', audio.codec ?? container.audio)
  if (spec.faststart) args.push('-movflags', '+faststart')
  args.push('-t', String(duration), '-f', container.format, out)
  return args
}

/**
 * Sets the display matrix of every video track header (tkhd with a non-zero size) in an mp4/mov,
 * the way the mov muxer writes a rotation: [a b 0; c d 0; tx ty 1] in 16.16, w = 1 in 2.30.
 */
function rotateTrackHeaders(bytes: Buffer, degrees: 90 | 180 | 270): void {
  let found = 0
  for (let at = bytes.indexOf('tkhd'); at >= 0; at = bytes.indexOf('tkhd', at + 4)) {
    const version = bytes[at + 4]
    const matrix = at + 4 + (version === 1 ? 52 : 40)
    const width = bytes.readUInt32BE(matrix + 36) / 65536
    const height = bytes.readUInt32BE(matrix + 40) / 65536
    if (width === 0 || height === 0) continue
    const [a, b, c, d, tx, ty] =
      degrees === 90 ? [0, 1, -1, 0, height, 0] : degrees === 180 ? [-1, 0, 0, -1, width, height] : [0, -1, 1, 0, 0, width]
    const values = [a * 65536, b * 65536, 0, c * 65536, d * 65536, 0, tx * 65536, ty * 65536, 2 ** 30]
    values.forEach((v, i) => bytes.writeInt32BE(v, matrix + 4 * i))
    found++
  }
  if (!found) throw new Error('no video track header to rotate')
}

/** Deterministic bytes (LCG), so "random" files probe the same way on every run. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s >>> 24
  }
  return out
}

export interface MediaDir {
  dir: string
  /** writes the clip and returns its path */
  make(spec: MediaSpec): Promise<string>
  /** makes several, two ffmpeg processes at a time; paths in spec order */
  makeAll(specs: MediaSpec[]): Promise<string[]>
  /**
   * A broken file: 'empty' (0 bytes), 'truncated' (the first third of a 1 s mp4 whose index is
   * at the end), 'random' (64 KiB of seeded noise), 'text' (prose), 'corrupt-middle' (a 3 s mp4 with 3,000
   * bytes in its middle scrambled: it opens and probes cleanly, only decoding every packet shows the damage).
   */
  broken(kind: BrokenKind, name: string): Promise<string>
  /** copies the first `keep` fraction of a file */
  truncate(source: string, name: string, keep: number): string
  cleanup(): void
}

export function createMediaDir(prefix = 'equiav-media-'): MediaDir {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const make = async (spec: MediaSpec): Promise<string> => {
    const out = join(dir, spec.name)
    try {
      await run(ffmpegPath(), mediaArgs(spec, out))
    } catch (err) {
      throw new Error(`making ${spec.name} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`, { cause: err })
    }
    if (spec.rotate) {
      const bytes = readFileSync(out)
      rotateTrackHeaders(bytes, spec.rotate)
      writeFileSync(out, bytes)
    }
    return out
  }
  const truncate = (source: string, name: string, keep: number): string => {
    const bytes = readFileSync(source)
    const out = join(dir, name)
    writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * keep)))
    return out
  }
  return {
    dir,
    make,
    async makeAll(specs) {
      const paths: string[] = new Array(specs.length)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < specs.length) {
          const i = next++
          paths[i] = await make(specs[i])
        }
      }
      await Promise.all([worker(), worker()])
      return paths
    },
    async broken(kind, name) {
      const out = join(dir, name)
      if (kind === 'empty') writeFileSync(out, new Uint8Array(0))
      else if (kind === 'random') writeFileSync(out, pseudoRandomBytes(65536, 12345))
      else if (kind === 'text') writeFileSync(out, 'These are notes about a holiday, saved under the wrong name.\n'.repeat(40))
      else if (kind === 'corrupt-middle') {
        const bytes = readFileSync(await make({ name: `whole-of-${name}`, duration: 3 }))
        const mid = bytes.length >> 1
        for (let i = mid - 1500; i < mid + 1500; i++) bytes[i] = (bytes[i] * 7 + 13) & 255
        writeFileSync(out, bytes)
      } else return truncate(await make({ name: `whole-of-${name}`, duration: 1 }), name, 1 / 3)
      return out
    },
    truncate,
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
}
