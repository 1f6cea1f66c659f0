/** One clip → its cache record: normalised fbank as the official dataset computes it, and its timed frames. */
import { resizedCrop } from '../engine/augment/crop'
import { type CacheSettings, recordBytes, storedFbankFrames } from './cache-format'
import { decodeAudio, extractTimedFrames } from './ffmpeg'
import { EQUIAV_FBANK_OPTIONS, equiavFbank, fbankFrameCount, normalizeFbank, padOrCut } from './fbank'

/** [H, W, 3] RGB bytes → [3, H, W] floats in [0, 1] */
export function hwcToChw(rgb: Uint8Array, size: number): Float32Array {
  const out = new Float32Array(3 * size * size)
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) out[c * size * size + i] = rgb[i * 3 + c] / 255
  return out
}

/**
 * The clip's record (layout in cache-format.ts): the fbank of its first 1024 frames (zero-padded to at least
 * targetLength before normalising, as the official loader pads), the frame times and the frames.
 */
export async function prepareClip(path: string, s: CacheSettings, signal?: AbortSignal): Promise<Uint8Array> {
  const wave = await decodeAudio(path, { signal })
  const raw = equiavFbank(wave)
  const valid = fbankFrameCount(wave.length)
  const n = storedFbankFrames(valid, s)
  const fbank = normalizeFbank(padOrCut(raw, valid, n, s.numMelBins), s.norm.mean, s.norm.std)
  const { frames, seconds } = await extractTimedFrames(path, { count: s.frames, size: 224, signal })
  const out = new Uint8Array(recordBytes(s, n))
  out.set(new Uint8Array(fbank.buffer, fbank.byteOffset, fbank.byteLength), 0)
  const frameAt = Float32Array.from(seconds, (t) => (t * 1000) / EQUIAV_FBANK_OPTIONS.frameShift) // seconds → fbank frames
  out.set(new Uint8Array(frameAt.buffer), fbank.byteLength)
  const S = s.frameSize
  let pos = fbank.byteLength + frameAt.byteLength
  for (const f of frames) {
    const chw = hwcToChw(f, 224)
    const small = S === 224 ? chw : resizedCrop(chw, 3, 224, 224, { top: 0, left: 0, height: 224, width: 224 }, S, S)
    for (let i = 0; i < small.length; i++) out[pos + i] = Math.round(Math.min(1, Math.max(0, small[i])) * 255)
    pos += small.length
  }
  return out
}
