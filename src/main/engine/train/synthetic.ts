/**
 * A generated audio-visual task with a known correspondence, so the engine can be trained and evaluated
 * before any media exists. Clip i has a class c = i mod 10 and an 8-bit pattern b(i):
 *  - audio (a normalised-fbank-like [T, F] map): a harmonic tone whose pitch encodes c, switched on in
 *    the time segments whose bit is set;
 *  - frame ([3, H, W] RGB in [0, 1]): blocks of a 4×2 grid lit in the colour of c where the bit is set.
 * The pair (c, b) is shared by both modalities, so instance-level retrieval has one right answer, and
 * time masks, crops and flips change what a clip shows (the augmentations matter).
 */
import { Rng } from '../rng'

export const SYNTHETIC_CLASSES = 10
const BITS = 8

export interface RawClip {
  id: string
  /** [n, F] normalised log-mel-like values, n ≥ the model's T (see train/window.ts) */
  fbank: Float32Array
  /** raw RGB frames [3, H, W] in [0, 1]; the loader picks one per view among those inside the audio window */
  frames: Float32Array[]
  /** each frame's time on the fbank's axis (fbank frames of 10 ms); absent = every frame fits every window */
  frameAt?: Float32Array
  /** class index (first label) */
  label: number
  /** every label of the clip (multi-label data); absent = only `label` */
  labels?: number[]
}

export function syntheticPattern(index: number): { label: number; bits: number } {
  // a fixed bijection-like scramble so neighbouring ids do not share patterns
  const bits = (Math.imul(index + 1, 0x9e3779b1) >>> 13) & ((1 << BITS) - 1)
  return { label: index % SYNTHETIC_CLASSES, bits }
}

function hueToRgb(h: number): [number, number, number] {
  const k = (n: number): number => (n + h * 6) % 6
  const f = (n: number): number => 1 - Math.max(0, Math.min(k(n), 4 - k(n), 1))
  return [f(5), f(3), f(1)]
}

export function syntheticClip(
  index: number,
  seed: number,
  dims: { audioLength: number; numMelBins: number; imgSize: number; frames?: number }
): RawClip {
  const { audioLength: T, numMelBins: F, imgSize: S } = dims
  const { label, bits } = syntheticPattern(index)
  const rng = new Rng(seed * 1_000_003 + index)

  const fbank = new Float32Array(T * F) // [T, F]
  const f0 = Math.round(((6 + 9 * label) / 100) * F)
  const segment = T / BITS
  for (let t = 0; t < T; t++) {
    const on = (bits >> Math.floor(t / segment)) & 1
    for (let f = 0; f < F; f++) {
      let x = -1 + 0.3 * rng.normal()
      if (on && (Math.abs(f - f0) <= 1 || Math.abs(f - 2 * f0) <= 1)) x += 2.5
      fbank[t * F + f] = x
    }
  }

  const [r, g, b] = hueToRgb(label / SYNTHETIC_CLASSES)
  const colour = [r, g, b]
  const frames: Float32Array[] = []
  for (let k = 0; k < (dims.frames ?? 3); k++) {
    const frame = new Float32Array(3 * S * S) // [3, H, W]
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const bit = Math.floor(y / (S / 2)) * 4 + Math.floor(x / (S / 4))
        const lit = (bits >> bit) & 1
        for (let c = 0; c < 3; c++) {
          const v = (lit ? colour[c] : 0.5) + 0.05 * rng.normal()
          frame[c * S * S + y * S + x] = Math.min(1, Math.max(0, v))
        }
      }
    }
    frames.push(frame)
  }
  return { id: `synthetic-${index}`, fbank, frames, label }
}
