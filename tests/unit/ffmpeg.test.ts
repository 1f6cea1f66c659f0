import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkFullDecode, decodeAudio, decodeProblems, extractFrames, ffprobePath, probeMedia, thumbnail } from '../../src/main/data/ffmpeg'
import { MediaError, type QuarantineReason } from '../../src/main/data/media-types'
import { type MediaSpec, createMediaDir } from '../helpers/media'

const media = createMediaDir('equiav-ffmpeg-test-')
afterAll(() => media.cleanup())

/** channel 0 and channel 1 differ, so a downmix would not pass for the first channel */
const STEREO = { frequencies: [440, 1000] }

const SPECS = {
  mp4: { name: 'clip.mp4', audio: STEREO },
  webm: { name: 'clip.webm', audio: STEREO },
  mkv: { name: 'clip.mkv', audio: STEREO },
  avi: { name: 'clip.avi', audio: STEREO },
  mov: { name: 'clip.mov', audio: STEREO, video: { codec: 'mjpeg' } },
  colour: { name: 'colour.mp4', video: { color: '0x3366CC' } },
  // 60×120: red rows 0–39, blue 40–79, green 80–119
  portrait: { name: 'portrait.mp4', video: { width: 60, height: 120, color: 'blue', filters: ['drawbox=x=0:y=0:w=60:h=40:color=red:t=fill', 'drawbox=x=0:y=80:w=60:h=40:color=green:t=fill'] } },
  // 120×60: red columns 0–39, blue 40–79, green 80–119
  landscape: { name: 'landscape.mkv', video: { width: 120, height: 60, color: 'blue', filters: ['drawbox=x=0:y=0:w=40:h=60:color=red:t=fill', 'drawbox=x=80:y=0:w=40:h=60:color=green:t=fill'] } },
  // 64×32 stored, red columns 0–23, shown as 32×64 by the rotate tag
  rotated: { name: 'rotated.mp4', video: { width: 64, height: 32, color: 'blue', filters: ['drawbox=x=0:y=0:w=24:h=32:color=red:t=fill'] }, rotate: 90 },
  oneFps: { name: 'one-fps.mp4', duration: 5, video: { fps: 1, width: 32, height: 32, rampStep: 40 } },
  long: { name: 'long.mp4', duration: 45, video: { fps: 2, width: 32, height: 32, rampStep: 4 }, audio: { sampleRate: 16000 } },
  sixChannels: { name: 'six-channels.mp4', audio: { sampleRate: 48000, frequencies: [300, 500, 700, 900, 1100, 1300] } },
  odd: { name: 'odd.mkv', video: { width: 33, height: 17, color: 'red' } },
  unicode: { name: 'клип 音声 ☃ a:b.mp4' },
  audioOnly: { name: 'tone.wav', audio: STEREO },
  videoOnly: { name: 'silent.mp4', audio: false }
} satisfies Record<string, MediaSpec>

type Clip = keyof typeof SPECS
const path = {} as Record<Clip, string>

beforeAll(async () => {
  const names = Object.keys(SPECS) as Clip[]
  const made = await media.makeAll(names.map((n) => SPECS[n]))
  names.forEach((n, i) => (path[n] = made[i]))
})

/** Upward zero crossings per second over the middle of the signal. */
function frequencyOf(x: Float32Array, rate: number): number {
  const from = Math.floor(x.length * 0.1)
  const to = Math.floor(x.length * 0.9)
  let crossings = 0
  for (let i = from + 1; i < to; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings++
  return crossings / ((to - from) / rate)
}

function pixel(frame: Uint8Array, size: number, row: number, col: number): number[] {
  const at = (row * size + col) * 3
  return Array.from(frame.subarray(at, at + 3))
}

/** Which colour a pixel is closest to. */
function hue(rgb: number[]): string {
  const named: Record<string, number[]> = { red: [255, 0, 0], green: [0, 128, 0], blue: [0, 0, 255] }
  const dist = (c: number[]): number => c.reduce((s, v, i) => s + (v - rgb[i]) ** 2, 0)
  return Object.keys(named).sort((a, b) => dist(named[a]) - dist(named[b]))[0]
}

async function reasonOf(work: Promise<unknown>): Promise<QuarantineReason | string> {
  try {
    await work
    return 'no error'
  } catch (err) {
    return err instanceof MediaError ? err.reason : `not a MediaError: ${String(err)}`
  }
}

/** ffmpeg/ffprobe processes this test process started that are still alive. */
function ffmpegChildren(filter = ''): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (ppid === process.pid && /ff(mpeg|probe)/.test(cmd) && cmd.includes(filter)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

describe.each([
  ['mp4', 'mov,mp4', 'h264', 'aac'],
  ['webm', 'webm', 'vp8', 'vorbis'],
  ['mkv', 'matroska', 'h264', 'mp3'],
  ['avi', 'avi', 'mpeg4', 'pcm_s16le'],
  ['mov', 'mov', 'mjpeg', 'aac']
] as const)('%s', (clip, format, videoCodec, audioCodec) => {
  it('probes container, codecs, size, rate and channels', async () => {
    const p = await probeMedia(path[clip])
    expect(p.formatName).toContain(format)
    expect(p.duration).toBeGreaterThan(0.95)
    expect(p.duration).toBeLessThan(1.1)
    expect(p.video).toMatchObject({ codec: videoCodec, width: 64, height: 48, fps: 10 })
    expect(p.audio).toMatchObject({ codec: audioCodec, sampleRate: 44100, channels: 2 })
  })

  it('decodes the first channel at 16 kHz', async () => {
    const audio = await decodeAudio(path[clip])
    expect(Math.abs(audio.length - 16000)).toBeLessThan(1600) // codec priming and padding
    expect(frequencyOf(audio, 16000)).toBeGreaterThan(440 * 0.97)
    expect(frequencyOf(audio, 16000)).toBeLessThan(440 * 1.03)
    const peak = audio.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    expect(peak).toBeGreaterThan(0.45)
    expect(peak).toBeLessThanOrEqual(1)
  })

  it('extracts 10 square RGB frames', async () => {
    const frames = await extractFrames(path[clip], { size: 32 })
    expect(frames).toHaveLength(10)
    for (const f of frames) expect(f).toHaveLength(32 * 32 * 3)
  })
})

describe('decodeAudio', () => {
  it('takes channel 0 (not a downmix) of 6-channel 48 kHz audio, at any rate asked', async () => {
    const p = await probeMedia(path.sixChannels)
    expect(p.audio).toMatchObject({ sampleRate: 48000, channels: 6 })
    const audio = await decodeAudio(path.sixChannels, { sampleRate: 8000 })
    expect(Math.abs(audio.length - 8000)).toBeLessThan(400)
    expect(frequencyOf(audio, 8000)).toBeCloseTo(300, -1)
  })

  it('decodes a 45 s clip whole', async () => {
    const audio = await decodeAudio(path.long)
    expect(Math.abs(audio.length - 45 * 16000)).toBeLessThan(1600)
  })

  it('reads unicode names with spaces and colons', async () => {
    const p = await probeMedia(path.unicode)
    expect(p.path).toBe(path.unicode)
    expect(frequencyOf(await decodeAudio(path.unicode), 16000)).toBeCloseTo(440, -1)
    expect(await extractFrames(path.unicode, { size: 16 })).toHaveLength(10)
  })
})

describe('extractFrames', () => {
  it('gives a solid colour back as that colour, at the default 224×224', async () => {
    const frames = await extractFrames(path.colour)
    expect(frames).toHaveLength(10)
    for (const f of frames) {
      expect(f).toHaveLength(224 * 224 * 3)
      const target = [0x33, 0x66, 0xcc]
      let worst = 0
      for (let i = 0; i < f.length; i++) worst = Math.max(worst, Math.abs(f[i] - target[i % 3]))
      expect(worst).toBeLessThanOrEqual(6)
    }
  })

  it('resizes the shorter side and centre-crops portrait video', async () => {
    // 60×120 → 30×60, rows 15–44 kept = source rows 30–89: red 30–39, blue 40–79, green 80–89
    const [f] = await extractFrames(path.portrait, { size: 30, count: 1 })
    expect(hue(pixel(f, 30, 1, 15))).toBe('red')
    expect(hue(pixel(f, 30, 15, 15))).toBe('blue')
    expect(hue(pixel(f, 30, 28, 15))).toBe('green')
  })

  it('resizes the shorter side and centre-crops landscape video', async () => {
    const [f] = await extractFrames(path.landscape, { size: 30, count: 1 })
    expect(hue(pixel(f, 30, 15, 1))).toBe('red')
    expect(hue(pixel(f, 30, 15, 15))).toBe('blue')
    expect(hue(pixel(f, 30, 15, 28))).toBe('green')
  })

  it('shows rotated video upright, as ffmpeg displays it', async () => {
    const p = await probeMedia(path.rotated)
    expect(p.video).toMatchObject({ width: 32, height: 64 })
    // upright 32×64 → 16×32, rows 8–23 = source rows 16–47; the red band is now 24 rows at one end
    const [f] = await extractFrames(path.rotated, { size: 16, count: 1 })
    expect(hue(pixel(f, 16, 8, 1))).toBe('blue')
    expect([hue(pixel(f, 16, 1, 8)), hue(pixel(f, 16, 14, 8))].sort()).toEqual(['blue', 'red'])
  })

  it('handles odd sizes', async () => {
    const p = await probeMedia(path.odd)
    expect(p.video).toMatchObject({ width: 33, height: 17 })
    const frames = await extractFrames(path.odd, { size: 24 })
    expect(frames).toHaveLength(10)
    expect(hue(pixel(frames[9], 24, 12, 12))).toBe('red')
  })

  /** The frame number a ramp frame shows: luma 16 + step·n → RGB ≈ step·n·255/219. */
  const frameNumber = (f: Uint8Array, step: number): number => f[0] / ((step * 255) / 219)

  it('picks frames as extract_video_frame.py does, repeating frames of a short 1 fps clip', async () => {
    const p = await probeMedia(path.oneFps)
    expect(p.video).toMatchObject({ fps: 1, frames: 5 })
    const shown = (await extractFrames(path.oneFps, { size: 8 })).map((f) => Math.round(frameNumber(f, 40)))
    // total 5 frames: ⌊i·5/10⌋ − 1, floored at 0
    expect(shown).toEqual([0, 0, 0, 0, 1, 1, 2, 2, 3, 3])
  })

  it('looks only at the first 10 s of a 45 s clip', async () => {
    const frames = await extractFrames(path.long, { size: 8 })
    // 90 frames at 2 fps, but total = min(90, ⌊2·10⌋) = 20: frames ⌊2i⌋ − 1
    const expected = [0, 1, 3, 5, 7, 9, 11, 13, 15, 17]
    frames.forEach((f, i) => expect(Math.abs(frameNumber(f, 4) - expected[i])).toBeLessThan(0.45))
  })
})

describe('thumbnail', () => {
  it('is a JPEG of the asked width, aspect kept', async () => {
    const jpeg = await thumbnail(path.mp4, { width: 40 })
    expect(Array.from(jpeg.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff])
    expect(Array.from(jpeg.subarray(-2))).toEqual([0xff, 0xd9])
    // baseline frame header: FFC0, length, precision, height, width
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]))
    expect(sof).toBeGreaterThan(0)
    expect([jpeg.readUInt16BE(sof + 7), jpeg.readUInt16BE(sof + 5)]).toEqual([40, 30])
  })
})

describe('audio-only and video-only files', () => {
  it('probe one stream and refuse the other with its reason', async () => {
    const tone = await probeMedia(path.audioOnly)
    expect(tone.video).toBeUndefined()
    expect(tone.audio).toMatchObject({ codec: 'pcm_s16le', channels: 2 })
    expect(await reasonOf(extractFrames(path.audioOnly))).toBe('no-video')
    expect(await reasonOf(thumbnail(path.audioOnly))).toBe('no-video')
    expect((await probeMedia(path.videoOnly)).audio).toBeUndefined()
    expect(await reasonOf(decodeAudio(path.videoOnly))).toBe('no-audio')
  })
})

describe('broken files', () => {
  it.each([
    ['empty', 'corrupt'],
    ['truncated', 'corrupt'],
    ['random', 'not-media'],
    ['text', 'not-media']
  ] as const)('%s → %s', async (kind, reason) => {
    const file = await media.broken(kind, `${kind}.mp4`)
    expect(await reasonOf(probeMedia(file))).toBe(reason)
    expect(await reasonOf(decodeAudio(file))).toBe(reason)
  })

  it('damage mid-file: probes cleanly, fails the full decode with ffmpeg\'s own message; the intact clip passes', async () => {
    const file = await media.broken('corrupt-middle', 'corrupt-middle.mp4')
    expect((await probeMedia(file)).video).toBeDefined()
    const err = await checkFullDecode(file).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MediaError)
    expect(err).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(new RegExp(`^${file}: does not decode cleanly: \\[(aac|h264)\\] `)) })
    await expect(checkFullDecode(join(media.dir, 'whole-of-corrupt-middle.mp4'))).resolves.toBeUndefined()
  })

  it('the null muxer\'s timestamp complaints are not decode damage; decoder messages are (stderr of real files)', () => {
    const looped = '[null @ 0x38404e00] Application provided invalid, non monotonically increasing dts to muxer in stream 1: 74176 >= 74176\n'
    expect(decodeProblems(looped)).toEqual([])
    const damaged = '[h264 @ 0x3ce79cc0] A non-intra slice in an IDR NAL unit.\n[h264 @ 0x3ce79cc0] decode_slice_header error\n'
    expect(decodeProblems(looped + damaged)).toEqual(['[h264] A non-intra slice in an IDR NAL unit.', '[h264] decode_slice_header error'])
  })

  it('a folder and a missing file', async () => {
    expect(await reasonOf(probeMedia(media.dir))).toBe('directory')
    expect(await reasonOf(decodeAudio(media.dir))).toBe('directory')
    expect(await reasonOf(probeMedia(`${media.dir}/missing.mp4`))).toBe('unreadable')
    expect(await reasonOf(extractFrames(`${media.dir}/missing.mp4`))).toBe('unreadable')
  })

  it('leave no ffmpeg process behind', () => {
    expect(ffmpegChildren()).toEqual([])
  })
})

it('aborting kills the running ffmpeg', async () => {
  const controller = new AbortController()
  const watcher = setInterval(() => {
    if (ffmpegChildren('pcm_f32le').length) controller.abort()
  }, 2)
  try {
    await expect(decodeAudio(path.long, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
  } finally {
    clearInterval(watcher)
  }
  for (let i = 0; i < 100 && ffmpegChildren().length; i++) await new Promise((r) => setTimeout(r, 20))
  expect(ffmpegChildren()).toEqual([])
})

describe('ffprobePath', () => {
  const saved = process.env.FFPROBE_PATH
  afterAll(() => {
    if (saved === undefined) delete process.env.FFPROBE_PATH
    else process.env.FFPROBE_PATH = saved
  })

  it('makes a binary that lost its execute bit executable', () => {
    const fake = join(media.dir, 'ffprobe-no-x')
    writeFileSync(fake, '#!/bin/sh\n', { mode: 0o644 })
    process.env.FFPROBE_PATH = fake
    expect(ffprobePath()).toBe(fake)
    expect(statSync(fake).mode & 0o111).toBe(0o111)
  })

  it('says what to do when it cannot', () => {
    process.env.FFPROBE_PATH = join(media.dir, 'no-such-ffprobe')
    expect(() => ffprobePath()).toThrow(/not executable.*chmod \+x.*FFPROBE_PATH/)
  })
})
