/**
 * The audio window a clip is seen through, and the frames that belong to it. A clip's cached fbank covers
 * up to its first 1024 frames (10.24 s, the official cut); a model whose audio length T is shorter (the
 * `tiny` preset's 304 frames = 3.04 s) sees a window of T frames of it, and its frame must come from
 * inside that window, or the pair does not correspond:
 *  - training: the window's start is drawn per step, uniformly over the stored fbank (as the official
 *    code sees a different part of each 10 s clip through its time roll), and the frame is drawn among the
 *    frames inside the window;
 *  - evaluation: the middle window and the middle of its frames (for a clip no longer than the window,
 *    the official frame_5 of 10).
 * Clips no longer than the window draw nothing extra, so their batches are the same as before windows.
 */
import type { Rng } from '../rng'
import type { RawClip } from './synthetic'

export interface ClipWindow {
  /** first fbank frame of the window */
  start: number
  /** [T, F]: the window's slice of the clip's fbank */
  fbank: Float32Array
  /** indices into clip.frames of the frames inside the window */
  frames: number[]
}

/** Number of fbank frames (time steps) a clip holds. */
export function fbankLength(clip: RawClip, F: number): number {
  return clip.fbank.length / F
}

/**
 * The frames whose time lies in [start, start + T); when none does (a clip with very few frames), the one
 * nearest the window's centre. Frames without times (generated clips) all belong to every window.
 */
export function framesInWindow(frameAt: ArrayLike<number> | undefined, count: number, start: number, T: number): number[] {
  if (!frameAt) return Array.from({ length: count }, (_, k) => k)
  const inside: number[] = []
  for (let k = 0; k < count; k++) if (frameAt[k] >= start && frameAt[k] < start + T) inside.push(k)
  if (inside.length) return inside
  const centre = start + T / 2
  let best = 0
  for (let k = 1; k < count; k++) if (Math.abs(frameAt[k] - centre) < Math.abs(frameAt[best] - centre)) best = k
  return [best]
}

export function clipWindow(clip: RawClip, T: number, F: number, start: number): ClipWindow {
  const n = fbankLength(clip, F)
  if (!Number.isInteger(n) || n < T) throw new Error(`clip ${clip.id}: fbank of ${clip.fbank.length} values is not at least ${T} frames × ${F} bins`)
  if (start < 0 || start + T > n) throw new Error(`clip ${clip.id}: window [${start}, ${start + T}) is outside its ${n} fbank frames`)
  const fbank = n === T ? clip.fbank : clip.fbank.subarray(start * F, (start + T) * F)
  return { start, fbank, frames: framesInWindow(clip.frameAt, clip.frames.length, start, T) }
}

/** Training: a window drawn uniformly over the stored fbank (no draw when the clip fits the window). */
export function trainWindow(clip: RawClip, T: number, F: number, rng: Rng): ClipWindow {
  const spare = fbankLength(clip, F) - T
  return clipWindow(clip, T, F, spare > 0 ? rng.randint(0, spare + 1) : 0)
}

/** Evaluation: the middle window. */
export function evalWindow(clip: RawClip, T: number, F: number): ClipWindow {
  return clipWindow(clip, T, F, Math.floor(Math.max(0, fbankLength(clip, F) - T) / 2))
}

/** The frame evaluation uses: the middle one of the window's frames (frame_5 of 10 when all are inside). */
export function evalFrameIndex(w: ClipWindow): number {
  return w.frames[Math.floor(w.frames.length / 2)]
}

export function evalFrame(clip: RawClip, w: ClipWindow): Float32Array {
  return clip.frames[evalFrameIndex(w)]
}
