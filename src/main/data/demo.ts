/**
 * The demo dataset: each clip shows a three-digit number as three real handwritten MNIST digits and
 * its audio is the same three digits spoken by a real voice (resources/demo, see LICENSES.md there).
 * Labels: the set of digits present (multi-label, 10 classes, like AudioSet) and the first digit
 * (single-label, like VGGSound). Test clips show numbers and handwriting samples no training clip shows;
 * numbers are distinct within a split up to 250 test and 750 training clips, so instance-level retrieval
 * has one right answer.
 *
 * Layout: sources (read resources) → plan (pure, seeded per clip) → render (pure pixels and samples)
 * → encode (one ffmpeg per clip, raw inputs on pipes) → manifest.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { ffmpegPath } from './ffmpeg'
import { Rng } from '../engine/rng'
import { writeJsonAtomic } from '../util/atomic'
import { parseWav16 } from './wav'

export type DemoSplit = 'train' | 'test'

export interface DemoClip {
  id: string
  /** absolute path of the mp4 */
  path: string
  /** digits present, ascending, no repeats (multi-label) */
  labels: number[]
  /** the first digit (single-label) */
  firstDigit: number
  /** the three digits as written and spoken, e.g. "042" */
  number: string
  voice: string
  split: DemoSplit
}

export interface DemoProgress {
  /** clips finished, counting those skipped because they already existed */
  done: number
  total: number
  skipped: number
}

export interface DemoOptions {
  outDir: string
  clips?: { train: number; test: number }
  seed?: number
  /** the recorded voices to speak the numbers (ids of resources/demo/sources.json); default DEMO_DEFAULTS.voices */
  voices?: string[]
  /** also use the espeak-ng voices (machine speech) */
  synthetic?: boolean
  /** called after each newly built clip */
  onProgress?: (p: DemoProgress) => void
  signal?: AbortSignal
  /** default: resources/demo of this checkout, or $EQUIAV_RESOURCES/demo */
  resourcesDir?: string
}

/**
 * One recorded voice (Allison Smith, en-US) by default: with the five voices of five languages, the `tiny`
 * encoders trained from scratch need most of their CPU budget to hear one digit in five languages, and the
 * equivariant objective stayed near chance for 900 steps (README, "How the demo's recipe was chosen").
 */
export const DEMO_DEFAULTS = { clips: { train: 1200, test: 240 }, seed: 0, synthetic: false, voices: ['en-allison'] }

/**
 * What every clip of a build shares; a folder built with other settings is not resumed into. Layout 4
 * (layout 3 with numbers split between train and test):
 * each digit has a fixed cell of a 2 × 2 grid in the frame and a fixed one-second slot in the soundtrack
 * (see planDemoClip).
 */
const CLIP_FORMAT = { frameSize: 224, fps: 10, durationSec: 3, layout: 4 }
/** ffmpeg processes at a time: one per core of a small machine (each runs single-threaded) */
const CONCURRENCY = 2
const MANIFEST = 'manifest.json'
const NUMBERS = 1000
/** numbers reserved for the test split: 240 test clips (the default) show distinct numbers */
const TEST_NUMBERS = 250
/** share of each digit's handwriting samples reserved for train; the rest only appear in test */
const TRAIN_IMAGE_SHARE = 0.8
/** a spoken digit starts up to this late in its one-second slot (less than one 16-frame fbank patch) */
const ONSET_JITTER_SEC = 0.08

/** Splits a total clip count 5:1 into train and test, as the default 1200 + 240. */
export function splitClipCount(total: number): { train: number; test: number } {
  const test = Math.round(total / 6)
  return { train: total - test, test }
}

// ---------------------------------------------------------------------------------------------- sources

interface VoiceInfo {
  id: string
  synthetic: boolean
}

export interface DemoSources {
  sampleRate: number
  /** voice id → ten recordings, one per digit, samples in [-1, 1] */
  voices: Map<string, Float32Array[]>
  realVoices: string[]
  syntheticVoices: string[]
  /** [10 digits][perDigit][28 × 28] grey levels */
  images: Uint8Array[][]
}

export function defaultDemoResourcesDir(): string {
  if (process.env.EQUIAV_RESOURCES) return join(process.env.EQUIAV_RESOURCES, 'demo')
  // source checkout (src/main/data) and electron-vite bundle (out/main) both sit under the project root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let up = 0; up < 5; up++, dir = dirname(dir)) {
    const candidate = join(dir, 'resources', 'demo')
    if (existsSync(join(candidate, 'sources.json'))) return candidate
  }
  throw new Error('demo resources not found: set EQUIAV_RESOURCES or run scripts/extract-demo-sources.mjs')
}

/** An unsigned-byte IDX file (any rank) → its dims and pixel bytes. */
export function parseIdxUint8(buf: Buffer): { dims: number[]; data: Uint8Array } {
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) throw new Error('not an unsigned-byte IDX file')
  const dims = Array.from({ length: buf[3] }, (_, k) => buf.readUInt32BE(4 + 4 * k))
  const offset = 4 + 4 * dims.length
  const size = dims.reduce((a, b) => a * b, 1)
  if (buf.length < offset + size) throw new Error(`IDX truncated: ${buf.length - offset} of ${size} bytes`)
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) }
}

export function loadDemoSources(dir = defaultDemoResourcesDir()): DemoSources {
  const meta = JSON.parse(readFileSync(join(dir, 'sources.json'), 'utf8')) as {
    sampleRate: number
    voices: VoiceInfo[]
    digits: { file: string }
  }
  const voices = new Map<string, Float32Array[]>()
  for (const v of meta.voices) {
    voices.set(
      v.id,
      Array.from({ length: 10 }, (_, d) => parseWav16(readFileSync(join(dir, 'voices', v.id, `${d}.wav`)), meta.sampleRate))
    )
  }
  const { dims, data } = parseIdxUint8(gunzipSync(readFileSync(join(dir, meta.digits.file))))
  const [classes, perDigit, h, w] = dims
  if (dims.length !== 4 || classes !== 10 || h !== 28 || w !== 28) throw new Error(`digit images must be [10, n, 28, 28], got [${dims}]`)
  const px = h * w
  const images = Array.from({ length: 10 }, (_, d) =>
    Array.from({ length: perDigit }, (_, k) => data.subarray((d * perDigit + k) * px, (d * perDigit + k + 1) * px))
  )
  return {
    sampleRate: meta.sampleRate,
    voices,
    realVoices: meta.voices.filter((v) => !v.synthetic).map((v) => v.id),
    syntheticVoices: meta.voices.filter((v) => v.synthetic).map((v) => v.id),
    images
  }
}

// ------------------------------------------------------------------------------------------------- plan

/** Integer hash of a few integers: independent seeds per (build seed, split, clip). */
function mix32(...xs: number[]): number {
  let h = 0x9e3779b9
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}

interface DigitPlacement {
  /** index into the digit's handwriting samples */
  image: number
  /** side of the scaled digit, pixels */
  size: number
  cx: number
  cy: number
  /** ink brightness, 0–1 */
  ink: number
}

export interface DemoClipPlan {
  id: string
  split: DemoSplit
  digits: [number, number, number]
  voice: string
  placements: DigitPlacement[]
  /** where each spoken digit starts, in samples */
  onsets: number[]
  gain: number
}

const SPLIT_CODE: Record<DemoSplit, number> = { train: 1, test: 2 }

/**
 * The 1000 three-digit numbers, split once per seed: TEST_NUMBERS of them are only ever shown in test
 * clips, the rest only in training clips, so retrieval on the test split is on numbers never trained on.
 */
function splitNumbers(seed: number): Record<DemoSplit, number[]> {
  const all = new Rng(mix32(seed, 0x73706c)).permutation(NUMBERS)
  return { test: all.slice(0, TEST_NUMBERS), train: all.slice(TEST_NUMBERS) }
}

/**
 * Clip `index` of a split depends only on (seed, split, index), never on the clip counts, so a larger
 * build with the same seed extends a smaller one and resumes into it.
 */
export function planDemoClip(sources: DemoSources, voices: string[], seed: number, split: DemoSplit, index: number): DemoClipPlan {
  const numbers = splitNumbers(seed)[split]
  const cycle = Math.floor(index / numbers.length)
  const order = new Rng(mix32(seed, SPLIT_CODE[split], cycle, 0x6e756d)).permutation(numbers.length)
  const n = numbers[order[index % numbers.length]]
  const digits: [number, number, number] = [Math.floor(n / 100), Math.floor(n / 10) % 10, n % 10]
  const voice = voices[index % voices.length]
  const r = new Rng(mix32(seed, SPLIT_CODE[split], index))

  const { frameSize, durationSec } = CLIP_FORMAT
  const perDigit = sources.images[0].length
  const trainImages = Math.floor(perDigit * TRAIN_IMAGE_SHARE)
  const [lo, hi] = split === 'train' ? [0, trainImages] : [trainImages, perDigit]
  // Digit k fills cell k of a 2 × 2 grid (reading order; the fourth cell stays empty) and is spoken in the
  // k-th second. At the tiny preset's 64² a cell is exactly 2 × 2 patches of 16 px, so no patch mixes two
  // digits. Fixed places because a randomly placed or scaled digit is what a small ViT trained from
  // scratch cannot learn in a CPU budget, and the demo is there to show the method learn.
  const cell = frameSize / 2
  const placements = digits.map((_, k) => ({
    image: r.randint(lo, hi),
    size: cell,
    cx: cell * ((k % 2) + 0.5),
    cy: cell * (Math.floor(k / 2) + 0.5),
    ink: r.uniform(0.75, 1)
  }))

  const rate = sources.sampleRate
  const recordings = sources.voices.get(voice)
  if (!recordings) throw new Error(`unknown voice ${voice}`)
  const slotSamples = Math.floor((durationSec * rate) / 3)
  const onsets = digits.map((d, k) => {
    const room = slotSamples - recordings[d].length
    if (room < 0) throw new Error(`voice ${voice}: digit ${d} is longer than ${durationSec / 3} s`)
    return k * slotSamples + Math.floor(Math.min(room, ONSET_JITTER_SEC * rate) * r.uniform())
  })
  return { id: `${split}-${String(index).padStart(4, '0')}`, split, digits, voice, placements, onsets, gain: r.uniform(0.6, 1) }
}

// ----------------------------------------------------------------------------------------------- render

/** Bilinear sample of a 28 × 28 image at continuous pixel coordinates; zero outside. */
function sample28(img: Uint8Array, u: number, v: number): number {
  const x0 = Math.floor(u)
  const y0 = Math.floor(v)
  const fx = u - x0
  const fy = v - y0
  const at = (x: number, y: number): number => (x >= 0 && x < 28 && y >= 0 && y < 28 ? img[y * 28 + x] : 0)
  return (
    (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
  )
}

/** The frame: white handwriting on black, grey levels [frameSize, frameSize] row-major. */
export function renderDemoFrame(plan: DemoClipPlan, sources: DemoSources): Uint8Array {
  const S = CLIP_FORMAT.frameSize
  const frame = new Uint8Array(S * S) // [height, width]
  plan.placements.forEach((p, k) => {
    const img = sources.images[plan.digits[k]][p.image]
    const x0 = p.cx - p.size / 2
    const y0 = p.cy - p.size / 2
    const scale = 28 / p.size
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(S, Math.ceil(y0 + p.size)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(S, Math.ceil(x0 + p.size)); x++) {
        // pixel centres map to pixel centres of the 28 × 28 source
        const value = p.ink * sample28(img, (x + 0.5 - x0) * scale - 0.5, (y + 0.5 - y0) * scale - 0.5)
        // neighbouring digits may overlap a little: keep the brighter stroke
        frame[y * S + x] = Math.max(frame[y * S + x], Math.round(value))
      }
    }
  })
  return frame
}

/** The soundtrack: the three recordings at their onsets, zero elsewhere, 16-bit PCM [durationSec · rate]. */
export function renderDemoAudio(plan: DemoClipPlan, sources: DemoSources): Int16Array {
  const out = new Int16Array(CLIP_FORMAT.durationSec * sources.sampleRate)
  const recordings = sources.voices.get(plan.voice)
  if (!recordings) throw new Error(`unknown voice ${plan.voice}`)
  plan.digits.forEach((d, k) => {
    const rec = recordings[d]
    for (let i = 0; i < rec.length; i++) out[plan.onsets[k] + i] = Math.round(rec[i] * plan.gain * 32767)
  })
  return out
}

// ----------------------------------------------------------------------------------------------- encode

/** Writes one mp4 (h264 + aac): the still frame on stdin, the samples on fd 3. */
function encodeClip(
  ffmpeg: string,
  frame: Uint8Array,
  audio: Int16Array,
  sampleRate: number,
  outPath: string,
  signal: AbortSignal
): Promise<void> {
  const { frameSize: S, fps, durationSec } = CLIP_FORMAT
  const frames = fps * durationSec
  const args = [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', `${S}x${S}`, '-framerate', String(fps), '-i', 'pipe:0',
    '-f', 's16le', '-ar', String(sampleRate), '-ac', '1', '-i', 'pipe:3',
    '-map', '0:v', '-map', '1:a', '-t', String(durationSec),
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'stillimage', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-threads', '1',
    // byte-identical output for a seed: no encoder version strings or timestamps
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
    '-movflags', '+faststart', '-f', 'mp4', outPath
  ]
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)))
    const onAbort = (): void => void child.kill('SIGKILL')
    signal.addEventListener('abort', onAbort, { once: true })
    const video = child.stdin as Writable
    const sound = child.stdio[3] as Writable
    // a dying ffmpeg closes its pipes; its exit status and stderr tell why
    video.on('error', () => {})
    sound.on('error', () => {})
    const still = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)
    for (let i = 0; i < frames; i++) video.write(still)
    video.end()
    sound.end(Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength))
    child.on('error', reject)
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort)
      if (signal.aborted) reject(signal.reason)
      else if (code === 0) resolve()
      else reject(new Error(`ffmpeg failed (exit ${code}) writing ${outPath}: ${stderr.trim()}`))
    })
  })
}

// -------------------------------------------------------------------------------------------- manifest

export interface DemoManifest {
  format: 'equiav-demo/1'
  settings: { seed: number; synthetic: boolean; voices: string[]; sampleRate: number } & typeof CLIP_FORMAT
  counts: { train: number; test: number }
  classes: string[]
  /** false until every clip is written */
  complete: boolean
  clips: (Omit<DemoClip, 'path'> & { file: string })[]
}

/** A folder holding clips of other settings must not be mixed into. */
async function checkResumable(outDir: string, settings: DemoManifest['settings']): Promise<void> {
  let previous: DemoManifest
  try {
    previous = JSON.parse(await readFile(join(outDir, MANIFEST), 'utf8')) as DemoManifest
  } catch {
    return
  }
  if (JSON.stringify(previous.settings) !== JSON.stringify(settings)) {
    throw new Error(`${outDir} holds a demo built with other settings (${JSON.stringify(previous.settings)}); use another folder`)
  }
}

const clipFile = (id: string): string => `${id}.mp4`

function clipOf(plan: DemoClipPlan, outDir: string): DemoClip {
  return {
    id: plan.id,
    path: join(outDir, clipFile(plan.id)),
    labels: [...new Set(plan.digits)].sort((a, b) => a - b),
    firstDigit: plan.digits[0],
    number: plan.digits.join(''),
    voice: plan.voice,
    split: plan.split
  }
}

// ------------------------------------------------------------------------------------------------ build

/**
 * Builds the demo clips into outDir (resumable: finished clips are kept, unfinished ones rebuilt) and
 * writes outDir/manifest.json. Deterministic for a seed. Rejects with signal.reason when aborted.
 */
export async function createDemoClips(opts: DemoOptions): Promise<DemoClip[]> {
  const { outDir, clips: counts = DEMO_DEFAULTS.clips, seed = DEMO_DEFAULTS.seed, synthetic = DEMO_DEFAULTS.synthetic } = opts
  const sources = loadDemoSources(opts.resourcesDir)
  const chosen = opts.voices ?? DEMO_DEFAULTS.voices
  const unknown = chosen.filter((v) => !sources.realVoices.includes(v))
  if (unknown.length || !chosen.length) throw new Error(`demo voices must be some of ${sources.realVoices.join(', ')}; got ${chosen.join(', ') || 'none'}`)
  const voices = synthetic ? [...chosen, ...sources.syntheticVoices] : chosen
  const plans = (['train', 'test'] as const).flatMap((split) =>
    Array.from({ length: counts[split] }, (_, i) => planDemoClip(sources, voices, seed, split, i))
  )
  const clips = plans.map((p) => clipOf(p, outDir))
  const settings = { seed, synthetic, voices, sampleRate: sources.sampleRate, ...CLIP_FORMAT }
  const manifest = (complete: boolean): DemoManifest => ({
    format: 'equiav-demo/1',
    settings,
    counts,
    classes: Array.from({ length: 10 }, (_, d) => String(d)),
    complete,
    clips: clips.map(({ path: _path, ...c }) => ({ ...c, file: clipFile(c.id) }))
  })

  await mkdir(outDir, { recursive: true })
  await checkResumable(outDir, settings)
  await writeJsonAtomic(join(outDir, MANIFEST), manifest(false))
  // partial files of an interrupted build
  for (const f of await readdir(outDir)) if (f.endsWith('.tmp.mp4')) await rm(join(outDir, f), { force: true })

  const todo = plans.filter((p) => !existsSync(join(outDir, clipFile(p.id))))
  const skipped = plans.length - todo.length
  const ffmpeg = ffmpegPath()
  // one failure stops the other worker too; the caller's abort stops both
  const stop = new AbortController()
  const onAbort = (): void => stop.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  if (opts.signal?.aborted) onAbort()
  let next = 0
  let done = skipped
  const worker = async (): Promise<void> => {
    while (next < todo.length && !stop.signal.aborted) {
      const plan = todo[next++]
      const tmp = join(outDir, `${plan.id}.tmp.mp4`)
      try {
        await encodeClip(ffmpeg, renderDemoFrame(plan, sources), renderDemoAudio(plan, sources), sources.sampleRate, tmp, stop.signal)
        await rename(tmp, join(outDir, clipFile(plan.id)))
        opts.onProgress?.({ done: ++done, total: plans.length, skipped })
      } catch (err) {
        await rm(tmp, { force: true })
        if (!stop.signal.aborted) stop.abort(err)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    if (stop.signal.aborted) throw stop.signal.reason
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
  await writeJsonAtomic(join(outDir, MANIFEST), manifest(true))
  return clips
}
