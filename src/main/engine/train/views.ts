/**
 * Turns raw clips into one pretraining batch exactly as the official dataset does
 * (datasets/AudioVisual.py, pretraining mode):
 *  - original audio: the normalised fbank circularly rolled in time by randint(−T, T) (the official `noise`
 *    option, on for AudioSet; `timeRoll: false` keeps clips whose content sits at fixed times, like the
 *    demo's spoken digits, in place), tiled to 3 channels;
 *  - the audio window of a clip longer than T drawn per step, and both frames drawn among the frames
 *    inside it (train/window.ts), so the audio and the frame of a pair come from the same moments;
 *  - original frame: a random frame of the window, ImageNet-normalised;
 *  - augmented audio: built from the rolled original; augmented frame: from an independently chosen
 *    random raw frame of the window (usually a different one);
 *  - S virtual parameter vectors per modality for the centroid.
 */
import type { EquiAVBatch } from '../batch'
import type { ModelConfig } from '../config'
import { makeViews, normalizeFrame } from '../augment'
import type { Rng } from '../rng'
import type { RawClip } from './synthetic'
import { trainWindow } from './window'

/** [T, F] → rolled by `shift` frames along time (torch.roll semantics) and tiled to [3, T, F]. */
export function rollAndTile(fbank: Float32Array, T: number, F: number, shift: number): Float32Array {
  const out = new Float32Array(3 * T * F)
  const s = ((shift % T) + T) % T
  for (let t = 0; t < T; t++) {
    const src = fbank.subarray(t * F, (t + 1) * F)
    const dst = ((t + s) % T) * F
    for (let c = 0; c < 3; c++) out.set(src, c * T * F + dst)
  }
  return out
}

export function collateBatch(clips: RawClip[], rng: Rng, config: ModelConfig, timeRoll = true): EquiAVBatch {
  const T = config.audioLength
  const F = config.numMelBins
  const img = config.imgSize
  const B = clips.length
  const S = config.cenNum
  const aLen = 3 * T * F
  const vLen = 3 * img * img
  const batch: EquiAVBatch = {
    batchSize: B,
    ids: clips.map((c) => c.id),
    a: new Float32Array(B * aLen),
    v: new Float32Array(B * vLen),
    aAug: new Float32Array(B * aLen),
    vAug: new Float32Array(B * vLen),
    tA: new Float32Array(B * config.augSizeA),
    tV: new Float32Array(B * config.augSizeV),
    tAList: new Float32Array(B * S * config.augSizeA),
    tVList: new Float32Array(B * S * config.augSizeV)
  }
  clips.forEach((clip, i) => {
    const w = trainWindow(clip, T, F, rng)
    const shift = rng.randint(-T, T) // drawn either way, so the rest of the batch is the same with and without the roll
    const a = rollAndTile(w.fbank, T, F, timeRoll ? shift : 0)
    const frame = clip.frames[w.frames[rng.randint(0, w.frames.length)]]
    const augFrame = clip.frames[w.frames[rng.randint(0, w.frames.length)]]
    const views = makeViews(rng, a, augFrame, config)
    batch.a.set(a, i * aLen)
    batch.v.set(normalizeFrame(frame, config.inputNorm.frame), i * vLen)
    batch.aAug.set(views.aAug, i * aLen)
    batch.vAug.set(views.vAug, i * vLen)
    batch.tA.set(views.tA, i * config.augSizeA)
    batch.tV.set(views.tV, i * config.augSizeV)
    batch.tAList.set(views.tAList, i * S * config.augSizeA)
    batch.tVList.set(views.tVList, i * S * config.augSizeV)
  })
  return batch
}
