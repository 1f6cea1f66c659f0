/**
 * Aligned pairs: a clip longer than the model's audio window is seen through a window drawn per step, and
 * its frame comes from inside that window. Checked on generated clips whose fbank rows and frames carry
 * their own time, and end to end on a prepared 12 s video whose frame brightness says which frame it is.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheReader, cacheDir, prepareCache } from '../../src/main/data/cache'
import { type CacheSettings, FBANK_WINDOW_FRAMES } from '../../src/main/data/cache-format'
import { PRESETS } from '../../src/main/engine/config'
import { evalViews } from '../../src/main/engine/eval/embed'
import { classifierBatch } from '../../src/main/engine/finetune/batch'
import type { ClassifierSpec } from '../../src/main/engine/finetune/model'
import { Rng } from '../../src/main/engine/rng'
import { derivedRng } from '../../src/main/engine/train/data-source'
import type { RawClip } from '../../src/main/engine/train/synthetic'
import { collateBatch } from '../../src/main/engine/train/views'
import { evalWindow, framesInWindow, trainWindow } from '../../src/main/engine/train/window'
import { createMediaDir, type MediaDir } from '../helpers/media'

const c = { ...PRESETS.tiny, cenNum: 2 }
const T = c.audioLength // 304 fbank frames = 3.04 s
const F = c.numMelBins
const plane = c.imgSize * c.imgSize

/** A clip of n fbank frames whose row t holds t, and 10 frames evenly over it, frame k filled with k / 10. */
function timedClip(id: string, n: number): RawClip {
  const fbank = new Float32Array(n * F)
  for (let t = 0; t < n; t++) fbank.fill(t, t * F, (t + 1) * F)
  const frames = Array.from({ length: 10 }, (_, k) => new Float32Array(3 * plane).fill(k / 10))
  return { id, fbank, frames, frameAt: Float32Array.from({ length: 10 }, (_, k) => (k * n) / 10), label: 0 }
}

/** Which frame a normalised original view shows (its red channel's value was k / 10 before normalising). */
const frameShown = (v: Float32Array, i: number): number => Math.round((v[i * 3 * plane] * c.inputNorm.frame.std[0] + c.inputNorm.frame.mean[0]) * 10)

describe('audio window and frame', () => {
  it('picks the frames inside the window, else the one nearest its centre; untimed frames fit every window', () => {
    const at = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
    expect(framesInWindow(at, 10, 300, 304)).toEqual([3, 4, 5, 6])
    expect(framesInWindow([0, 50, 2000], 3, 700, 304)).toEqual([1]) // none inside: 50 is nearer the centre 852 than 2000
    expect(framesInWindow(undefined, 4, 700, 304)).toEqual([0, 1, 2, 3])
  })

  it('training: a clip longer than the window gets a window drawn per step and a frame from inside it', () => {
    const clips = Array.from({ length: 6 }, (_, i) => timedClip(`c${i}`, 998)) // 10 s of audio
    const starts = new Set<number>()
    for (let step = 0; step < 12; step++) {
      const b = collateBatch(clips, derivedRng(3, 'step', step), c, false)
      clips.forEach((clip, i) => {
        const start = b.a[i * 3 * T * F] // row 0 of the window holds its time
        expect(b.a[i * 3 * T * F + (T - 1) * F]).toBe(start + T - 1) // a contiguous window
        expect(start).toBeGreaterThanOrEqual(0)
        expect(start + T).toBeLessThanOrEqual(998)
        const k = frameShown(b.v, i)
        expect(clip.frameAt![k]).toBeGreaterThanOrEqual(start)
        expect(clip.frameAt![k]).toBeLessThan(start + T)
        starts.add(start)
      })
    }
    expect(starts.size).toBeGreaterThan(40) // drawn per clip and step, over the whole 10 s
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThan(500)
  })

  it('fine-tuning batches take their frame from inside the window too, in training and evaluation', () => {
    const clips = Array.from({ length: 8 }, (_, i) => timedClip(`c${i}`, 998))
    const spec: ClassifierSpec = { model: c, modality: 'audio-visual', classes: 2 }
    for (const mode of [{ train: true as const, rng: new Rng(5), mixup: 0, timeRoll: false }, { train: false as const }]) {
      const b = classifierBatch(clips, spec, 'bce', mode)
      clips.forEach((clip, i) => {
        const start = b.a![i * 3 * T * F]
        const k = frameShown(b.v!, i)
        expect(clip.frameAt![k]).toBeGreaterThanOrEqual(start)
        expect(clip.frameAt![k]).toBeLessThan(start + T)
      })
    }
  })

  it('evaluation: the middle window and the middle of its frames', () => {
    const clip = timedClip('long', 998)
    const { a, v } = evalViews([clip], c)
    expect(a[0]).toBe(347) // ⌊(998 − 304) / 2⌋
    // frames at 0, 99.8, …, 898.2: inside [347, 651) are 399.2, 499, 598.8 → the middle one, frame 5
    expect(frameShown(v, 0)).toBe(5)
    expect(evalWindow(clip, T, F).frames).toEqual([4, 5, 6])
  })

  it('a clip no longer than the window draws nothing extra, so its batches are those of before windows', () => {
    const clip = timedClip('short', T)
    const rng = new Rng(9)
    const w = trainWindow(clip, T, F, rng)
    expect(w.start).toBe(0)
    expect(w.fbank).toBe(clip.fbank)
    expect(rng.uniform()).toBe(new Rng(9).uniform())
  })

  it('refuses a clip shorter than the window, naming it', () => {
    expect(() => trainWindow(timedClip('tiny-clip', 100), T, F, new Rng(0))).toThrow(/clip tiny-clip: fbank of 12800 values is not at least 304 frames × 128 bins/)
  })
})

describe('prepared long clip', () => {
  let media: MediaDir
  let path: string
  const settings: CacheSettings = { targetLength: T, numMelBins: F, frameSize: 16, frames: 10, norm: { mean: -4.346, std: 4.332 } }
  beforeAll(async () => {
    media = createMediaDir()
    // 12 s at 5 fps: frame n has luma 16 + 4n, so a frame's brightness gives its number, hence its time
    path = await media.make({ name: 'long.mp4', duration: 12, video: { rampStep: 4, fps: 5, width: 32, height: 32 } })
  }, 120_000)
  afterAll(() => media?.cleanup())

  it('caches the first 1024 fbank frames and each frame\'s time, and training pairs audio with a frame from its window', async () => {
    const datasetDir = join(media.dir, 'ds')
    await prepareCache({ datasetDir, clips: [{ id: 'long', path }], settings, workers: 1 })
    const reader = await CacheReader.open(cacheDir(datasetDir, settings))
    const clip = await reader.clip('long', 0)
    await reader.close()
    expect(clip.fbank.length).toBe(FBANK_WINDOW_FRAMES * F) // 12 s cut to the official 10.24 s
    // the official extractor takes frame ⌊k·50/10⌋ − 1 of the first 10 s (50 frames at 5 fps): at (5k − 1) / 5 s
    expect([...clip.frameAt!]).toEqual([0, 4, 9, 14, 19, 24, 29, 34, 39, 44].map((n) => (n / 5) * 100).map((x) => Math.fround(x)))
    // each cached frame shows the frame number its time says (RGB ≈ 4n·255/219)
    const number = (f: Float32Array): number => Math.round((f[0] * 219) / 4)
    expect(clip.frames.map(number)).toEqual([0, 4, 9, 14, 19, 24, 29, 34, 39, 44])
    for (let step = 0; step < 8; step++) {
      const w = trainWindow(clip, T, F, derivedRng(1, 'step', step))
      for (const k of w.frames) {
        const seconds = number(clip.frames[k]) / 5
        expect(seconds * 100).toBeGreaterThanOrEqual(w.start)
        expect(seconds * 100).toBeLessThan(w.start + T)
      }
      expect(w.frames.length).toBeGreaterThanOrEqual(2) // about 3 of the 10 frames lie in a 3.04 s window
    }
  }, 120_000)
})
