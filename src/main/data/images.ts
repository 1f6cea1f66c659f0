/**
 * Images for the workbench, encoded here without any image library: PNG (zlib + CRC-32 from node:zlib),
 * from the arrays the model sees — frames [3, S, S] in [0, 1] and normalised fbanks [T, F].
 */
import { crc32, deflateSync } from 'node:zlib'

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'ascii')
  data.copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

/** RGB bytes [H, W, 3] → PNG. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes is not ${width}×${height} RGB`)
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit, truecolour, deflate, no filter method, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0 // filter: none
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1)
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

const byte = (x: number): number => Math.round(Math.min(1, Math.max(0, x)) * 255)

/** A frame [3, H, W] with values in [0, 1] → PNG. */
export function framePng(chw: Float32Array, H: number, W: number): Buffer {
  const rgb = new Uint8Array(H * W * 3)
  for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = byte(chw[c * H * W + i])
  return encodePng(rgb, W, H)
}

/** A perceptual dark-to-bright ramp (blue → teal → yellow), five stops interpolated linearly. */
const STOPS = [
  [0.05, 0.03, 0.2],
  [0.23, 0.32, 0.55],
  [0.13, 0.57, 0.55],
  [0.53, 0.79, 0.31],
  [0.99, 0.91, 0.15]
]
export function colormap(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1)
  const i = Math.min(STOPS.length - 2, Math.floor(x))
  const f = x - i
  return [0, 1, 2].map((c) => byte(STOPS[i][c] * (1 - f) + STOPS[i + 1][c] * f)) as [number, number, number]
}

/**
 * A normalised fbank [T, F] (time-major, as the cache and the model hold it) → PNG of T × F pixels:
 * time to the right, mel bins upwards, so pixel (x, y) lies in patch (⌊x/16⌋, ⌊(F−1−y)/16⌋) of the model's grid.
 * `range` fixes the colour scale (an augmented view drawn on the original's scale); default: its own min–max.
 */
export function spectrogramPng(fbank: Float32Array, T: number, F: number, range?: { min: number; max: number }): Buffer {
  if (fbank.length !== T * F) throw new Error(`spectrogramPng: ${fbank.length} values is not ${T}×${F}`)
  const { min, max } = range ?? valueRange(fbank)
  const span = max - min || 1
  const rgb = new Uint8Array(T * F * 3)
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const [r, g, b] = colormap((fbank[t * F + f] - min) / span)
      const o = ((F - 1 - f) * T + t) * 3
      rgb[o] = r
      rgb[o + 1] = g
      rgb[o + 2] = b
    }
  }
  return encodePng(rgb, T, F)
}

export function valueRange(x: Float32Array): { min: number; max: number } {
  let min = Infinity
  let max = -Infinity
  for (const v of x) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return { min, max }
}
