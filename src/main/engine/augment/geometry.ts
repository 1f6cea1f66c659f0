/** Flips and quarter-turn rotations of [C, H, W] images; each returns a new array. */

/** reverse the last axis (torchvision hflip; the mel axis of a [3, T, F] spectrogram) */
export function flipHorizontal(img: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(img.length) // [C, H, W]
  for (let r = 0; r < C * H; r++) {
    const row = r * W
    for (let x = 0; x < W; x++) out[row + x] = img[row + W - 1 - x]
  }
  return out
}

/** reverse the rows (torchvision vflip) */
export function flipVertical(img: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(img.length) // [C, H, W]
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) out.set(img.subarray((c * H + y) * W, (c * H + y + 1) * W), (c * H + H - 1 - y) * W)
  }
  return out
}

/**
 * Rotate a square [C, S, S] image counter-clockwise by quarterTurns × 90° (PIL rotate / Transpose for
 * multiples of 90° on a square image: a pure permutation of pixels, no interpolation).
 */
export function rotateQuarterTurns(img: Float32Array, C: number, S: number, quarterTurns: number): Float32Array {
  const k = ((quarterTurns % 4) + 4) % 4
  const out = new Float32Array(img.length) // [C, S, S]
  for (let c = 0; c < C; c++) {
    const base = c * S * S
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        // source pixel of output (y, x) after k counter-clockwise turns
        let sy = y
        let sx = x
        if (k === 1) [sy, sx] = [x, S - 1 - y]
        else if (k === 2) [sy, sx] = [S - 1 - y, S - 1 - x]
        else if (k === 3) [sy, sx] = [S - 1 - x, y]
        out[base + y * S + x] = img[base + sy * S + sx]
      }
    }
  }
  return out
}
