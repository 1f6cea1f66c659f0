/**
 * Which video frames a clip contributes, and the ffmpeg filters that shape them, following CAV-MAE's
 * preprocess/extract_video_frame.py (which EquiAV's data lists come from). Pure: no IO.
 */

/** The official extractor only looks at the first 10 s (it was written for 10 s AudioSet/VGGSound clips). */
export const FRAME_WINDOW_SECONDS = 10

/**
 * Frame numbers (0-based, in decode order) of `count` evenly spaced frames, as the extractor
 * picks them: with total = min(frameCount, ⌊fps·10⌋), frame i is ⌊i·total/count⌋ − 1, because it
 * sets OpenCV's position to that value and reads the next frame; position −1 reads frame 0.
 * Short videos repeat frames.
 */
export function cavMaeFrameIndices(frameCount: number, fps: number, count = 10): number[] {
  const total = Math.min(Math.floor(frameCount), Math.floor(fps * FRAME_WINDOW_SECONDS))
  return Array.from({ length: count }, (_, i) => Math.max(0, Math.floor(i * (total / count)) - 1))
}

/** ffmpeg `select` keeping exactly the given frame numbers (each once, in stream order). */
export function selectFramesFilter(indices: readonly number[]): string {
  const unique = [...new Set(indices)].sort((a, b) => a - b)
  return `select='${unique.map((n) => `eq(n,${n})`).join('+')}'`
}

/**
 * Python's round(d / 2) for an integer d (half to even), as an ffmpeg expression:
 * torchvision's CenterCrop offset is int(round((in − out) / 2)).
 */
function halfRoundedToEven(d: string): string {
  return `if(mod(${d},2),2*floor((${d}+1)/4),(${d})/2)`
}

/**
 * torchvision Resize(size) (bicubic; shorter side to `size`, longer side truncated) then
 * CenterCrop(size), on RGB as PIL does. Expressed on ffmpeg's own iw/ih so that rotated or
 * odd-sized streams need no probing.
 */
export function resizeCropFilters(size: number): string[] {
  return [
    'format=rgb24',
    `scale=w='if(lte(iw,ih),${size},trunc(${size}*iw/ih))':h='if(lte(iw,ih),trunc(${size}*ih/iw),${size})':flags=bicubic`,
    `crop=${size}:${size}:x='${halfRoundedToEven('in_w-out_w')}':y='${halfRoundedToEven('in_h-out_h')}'`
  ]
}
