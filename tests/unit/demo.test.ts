import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpegPath, ffprobePath } from '../../src/main/data/ffmpeg'
import {
  type DemoClip,
  type DemoClipPlan,
  type DemoManifest,
  type DemoProgress,
  type DemoSources,
  DEMO_DEFAULTS,
  createDemoClips,
  loadDemoSources,
  parseIdxUint8,
  planDemoClip,
  renderDemoAudio,
  renderDemoFrame,
  splitClipCount
} from '../../src/main/data/demo'
import { parseWav16 } from '../../src/main/data/wav'

const tmp = mkdtempSync(join(tmpdir(), 'equiav-demo-test-'))
const SMALL = { train: 5, test: 1 }

interface ProbeStream {
  codec_type: string
  codec_name: string
  width?: number
  height?: number
  sample_rate?: string
  duration?: string
}

function probe(file: string): { streams: ProbeStream[]; format: { duration: string; format_name: string } } {
  const out = execFileSync(ffprobePath(), ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file])
  return JSON.parse(out.toString()) as { streams: ProbeStream[]; format: { duration: string; format_name: string } }
}

function decode(file: string, args: string[]): Buffer {
  return execFileSync(ffmpegPath(), ['-v', 'error', '-i', file, ...args, 'pipe:1'], { maxBuffer: 1 << 24 })
}

const md5 = (file: string): string => createHash('md5').update(readFileSync(file)).digest('hex')
const mp4s = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort()

let sources: DemoSources
let clipsA: DemoClip[]
const dirA = join(tmp, 'a')

beforeAll(async () => {
  sources = loadDemoSources()
  clipsA = await createDemoClips({ outDir: dirA, clips: SMALL, seed: 7 })
})

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('demo sources and pure parts', () => {
  it('parses a hand-made 16-bit mono WAV and rejects other formats', () => {
    const head = Buffer.alloc(44)
    head.write('RIFF', 0)
    head.writeUInt32LE(40, 4)
    head.write('WAVEfmt ', 8)
    head.writeUInt32LE(16, 16)
    head.writeUInt16LE(1, 20)
    head.writeUInt16LE(1, 22)
    head.writeUInt32LE(16000, 24)
    head.writeUInt32LE(32000, 28)
    head.writeUInt16LE(2, 32)
    head.writeUInt16LE(16, 34)
    head.write('data', 36)
    head.writeUInt32LE(4, 40)
    const body = Buffer.alloc(4)
    body.writeInt16LE(16384, 0)
    body.writeInt16LE(-32768, 2)
    expect(Array.from(parseWav16(Buffer.concat([head, body]), 16000))).toEqual([0.5, -1])
    expect(() => parseWav16(Buffer.concat([head, body]), 8000)).toThrow(/16-bit mono 8000 Hz/)
  })

  it('parses an unsigned-byte IDX of any rank', () => {
    const buf = Buffer.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    const { dims, data } = parseIdxUint8(buf)
    expect(dims).toEqual([2, 3])
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6])
    expect(() => parseIdxUint8(buf.subarray(0, 15))).toThrow(/truncated/)
  })

  it('ships five recorded voices with ten digits each and 500 handwriting samples per digit', () => {
    expect(sources.sampleRate).toBe(16000)
    expect(sources.realVoices).toEqual(['en-allison', 'es-allison', 'fr-june', 'it-carlo', 'ru-ivrvoice'])
    for (const id of sources.realVoices) {
      const recs = sources.voices.get(id) ?? []
      expect(recs).toHaveLength(10)
      // trimmed words: longer than 0.15 s, shorter than 1 s, and not silent
      for (const r of recs) {
        expect(r.length / 16000).toBeGreaterThan(0.15)
        expect(r.length / 16000).toBeLessThan(1)
        expect(Math.max(...r.map(Math.abs))).toBeGreaterThan(0.5)
      }
    }
    expect(sources.images.map((d) => d.length)).toEqual(Array(10).fill(500))
    // MNIST digits are white strokes on black: corners empty, some full-ink pixels
    const img = sources.images[3][0]
    expect(img[0] + img[27] + img[27 * 28] + img[28 * 28 - 1]).toBe(0)
    expect(Math.max(...img)).toBe(255)
  })

  it('splits a total 5:1', () => {
    expect(splitClipCount(1440)).toEqual({ train: 1200, test: 240 })
    expect(splitClipCount(6)).toEqual({ train: 5, test: 1 })
  })

  it('plans distinct numbers per split, never a test number in training, balanced voices, speech that fits the clip', () => {
    const voices = sources.realVoices
    const plans = Array.from({ length: 1000 }, (_, i) => planDemoClip(sources, voices, 0, 'train', i))
    const trainNumbers = new Set(plans.map((p) => p.digits.join('')))
    // 750 numbers are kept for training: the first 750 clips show each once, the next ones start again
    expect(new Set(plans.slice(0, 750).map((p) => p.digits.join(''))).size).toBe(750)
    expect(trainNumbers.size).toBe(750)
    const testNumbers = Array.from({ length: 250 }, (_, i) => planDemoClip(sources, voices, 0, 'test', i).digits.join(''))
    expect(new Set(testNumbers).size).toBe(250)
    expect(testNumbers.filter((n) => trainNumbers.has(n))).toEqual([])
    expect(plans.filter((p) => p.voice === 'it-carlo')).toHaveLength(200)
    for (const p of plans) {
      const recs = sources.voices.get(p.voice) ?? []
      for (let k = 0; k < 3; k++) {
        const end = p.onsets[k] + recs[p.digits[k]].length
        expect(end).toBeLessThanOrEqual(k < 2 ? p.onsets[k + 1] : 3 * 16000)
      }
      // handwriting of the train split never comes from the samples kept for test
      expect(Math.max(...p.placements.map((q) => q.image))).toBeLessThan(400)
    }
    const test = Array.from({ length: 100 }, (_, i) => planDemoClip(sources, voices, 0, 'test', i).placements.map((q) => q.image)).flat()
    expect(Math.min(...test)).toBeGreaterThanOrEqual(400)
    expect(Math.max(...test)).toBeLessThan(500)
  })

  it('puts digit k in cell k of a 2 × 2 grid and starts it in the first 0.08 s of the k-th second', () => {
    const voices = [...sources.realVoices, ...sources.syntheticVoices]
    const cells = [
      [56, 56],
      [168, 56],
      [56, 168]
    ]
    for (let i = 0; i < 200; i++) {
      const p = planDemoClip(sources, voices, 3, i % 2 ? 'train' : 'test', i)
      p.placements.forEach((q, k) => {
        expect([q.cx, q.cy, q.size]).toEqual([...cells[k], 112])
        expect(p.onsets[k]).toBeGreaterThanOrEqual(k * 16000)
        expect(p.onsets[k]).toBeLessThanOrEqual(k * 16000 + 0.08 * 16000)
      })
    }
  })

  it('draws a digit at 28 px and integer position as the MNIST image itself', () => {
    const plan: DemoClipPlan = {
      id: 'x',
      split: 'train',
      digits: [4, 7, 1],
      voice: 'en-allison',
      // only the first digit on the frame; the others far outside
      placements: [
        { image: 5, size: 28, cx: 50, cy: 60, ink: 1 },
        { image: 0, size: 28, cx: -100, cy: -100, ink: 1 },
        { image: 0, size: 28, cx: -100, cy: -100, ink: 1 }
      ],
      onsets: [0, 20000, 40000],
      gain: 0.5
    }
    const frame = renderDemoFrame(plan, sources)
    const img = sources.images[4][5]
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(frame[(46 + y) * 224 + 36 + x]).toBe(img[y * 28 + x])
    expect(frame.reduce((s, v) => s + v, 0)).toBe(img.reduce((s, v) => s + v, 0))
    const audio = renderDemoAudio(plan, sources)
    const seven = sources.voices.get('en-allison')?.[7] ?? new Float32Array()
    expect(audio[20000 + 1000]).toBe(Math.round(seven[1000] * 0.5 * 32767))
    expect(audio[19999]).toBe(0)
  })
})

describe('createDemoClips', () => {
  it('writes h264 + aac mp4s of 3 s with a complete manifest', () => {
    expect(mp4s(dirA)).toEqual(['test-0000.mp4', 'train-0000.mp4', 'train-0001.mp4', 'train-0002.mp4', 'train-0003.mp4', 'train-0004.mp4'])
    for (const c of clipsA) {
      const info = probe(c.path)
      const video = info.streams.find((s) => s.codec_type === 'video')
      const audio = info.streams.find((s) => s.codec_type === 'audio')
      expect(info.format.format_name).toContain('mp4')
      expect(video).toMatchObject({ codec_name: 'h264', width: 224, height: 224 })
      expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '16000' })
      expect(Number(info.format.duration)).toBeCloseTo(3, 1)
    }
    const manifest = JSON.parse(readFileSync(join(dirA, 'manifest.json'), 'utf8')) as DemoManifest
    expect(manifest.complete).toBe(true)
    expect(manifest.counts).toEqual(SMALL)
    expect(manifest.clips.map((c) => join(dirA, c.file))).toEqual(clipsA.map((c) => c.path))
  })

  it('labels each clip with the digits of its number', () => {
    for (const c of clipsA) {
      expect(c.number).toMatch(/^\d{3}$/)
      const digits = [...c.number].map(Number)
      expect(c.firstDigit).toBe(digits[0])
      expect(c.labels).toEqual([...new Set(digits)].sort((a, b) => a - b))
    }
    const train = clipsA.filter((c) => c.split === 'train')
    expect(train).toHaveLength(5)
    expect(new Set(train.map((c) => c.number)).size).toBe(5)
    expect(new Set(clipsA.map((c) => c.voice))).toEqual(new Set(DEMO_DEFAULTS.voices))
  })

  it('speaks with the voices asked for, and names an unknown one', async () => {
    const dir = join(tmp, 'voices')
    const clips = await createDemoClips({ outDir: dir, clips: { train: 4, test: 0 }, seed: 7, voices: ['fr-june', 'it-carlo'] })
    expect(clips.map((c) => c.voice)).toEqual(['fr-june', 'it-carlo', 'fr-june', 'it-carlo'])
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DemoManifest
    expect(manifest.settings.voices).toEqual(['fr-june', 'it-carlo'])
    await expect(createDemoClips({ outDir: join(tmp, 'nobody'), clips: SMALL, voices: ['xx-nobody'] })).rejects.toThrow(/demo voices must be some of en-allison.*got xx-nobody/)
  })

  it('encodes the rendered frame and soundtrack faithfully', () => {
    const clip = clipsA[1]
    const plan = planDemoClip(sources, DEMO_DEFAULTS.voices, 7, clip.split, 1)
    expect(plan.digits.join('')).toBe(clip.number)
    const expectedFrame = renderDemoFrame(plan, sources)
    const frame = decode(clip.path, ['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray'])
    expect(frame.length).toBe(224 * 224)
    let diff = 0
    for (let i = 0; i < frame.length; i++) diff += Math.abs(frame[i] - expectedFrame[i])
    expect(diff / frame.length).toBeLessThan(1) // h264 + limited-range luma round trip (≈0.2 seen)

    const expected = renderDemoAudio(plan, sources)
    const pcm = decode(clip.path, ['-f', 's16le', '-ac', '1', '-ar', '16000'])
    const got = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1)
    expect(Math.abs(got.length - expected.length)).toBeLessThanOrEqual(1024) // at most one padded AAC frame
    let dot = 0
    let ee = 0
    let gg = 0
    for (let i = 0; i < Math.min(got.length, expected.length); i++) {
      dot += got[i] * expected[i]
      ee += expected[i] * expected[i]
      gg += got[i] * got[i]
    }
    // ≈0.999 seen; a shift of 5 samples (e.g. untrimmed encoder delay) drops it below 0.8
    expect(dot / Math.sqrt(ee * gg)).toBeGreaterThan(0.98)
  })

  it('is byte-for-byte deterministic for a seed, and a different seed gives other numbers', async () => {
    const dirB = join(tmp, 'b')
    await createDemoClips({ outDir: dirB, clips: SMALL, seed: 7 })
    for (const f of [...mp4s(dirA), 'manifest.json']) expect(md5(join(dirB, f))).toBe(md5(join(dirA, f)))
    const other = await createDemoClips({ outDir: join(tmp, 'c'), clips: { train: 2, test: 0 }, seed: 8 })
    expect(other.map((c) => c.number)).not.toEqual(clipsA.slice(0, 2).map((c) => c.number))
  })

  it('resumes: keeps finished clips, rebuilds missing ones, drops stale partial files', async () => {
    const before = new Map(mp4s(dirA).map((f) => [f, statSync(join(dirA, f)).mtimeMs]))
    const hash = md5(join(dirA, 'train-0002.mp4'))
    const events: DemoProgress[] = []
    await createDemoClips({ outDir: dirA, clips: SMALL, seed: 7, onProgress: (p) => events.push(p) })
    expect(events).toEqual([])
    for (const [f, t] of before) expect(statSync(join(dirA, f)).mtimeMs).toBe(t)

    unlinkSync(join(dirA, 'train-0002.mp4'))
    writeFileSync(join(dirA, 'train-0003.tmp.mp4'), 'half a file')
    await createDemoClips({ outDir: dirA, clips: SMALL, seed: 7, onProgress: (p) => events.push(p) })
    expect(events).toEqual([{ done: 6, total: 6, skipped: 5 }])
    expect(md5(join(dirA, 'train-0002.mp4'))).toBe(hash)
    expect(readdirSync(dirA).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('refuses to mix settings into a folder built with another seed', async () => {
    await expect(createDemoClips({ outDir: dirA, clips: SMALL, seed: 8 })).rejects.toThrow(/other settings/)
  })

  it('stops on abort without leaving partial files', async () => {
    const dir = join(tmp, 'abort')
    const controller = new AbortController()
    const run = createDemoClips({ outDir: dir, clips: { train: 30, test: 0 }, seed: 1, signal: controller.signal, onProgress: () => controller.abort() })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(mp4s(dir).length).toBeLessThan(30)
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([])
    expect((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DemoManifest).complete).toBe(false)
  })
})
