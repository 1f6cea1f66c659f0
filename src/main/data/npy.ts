/**
 * NumPy .npy files (format 1.0): little-endian float32 in C order, as np.save writes them, so
 * features can be checked with numpy directly.
 */
import { readFile, writeFile } from 'node:fs/promises'

const MAGIC = '\x93NUMPY'
/** numpy pads the header so the data starts on a multiple of this */
const ALIGN = 64

export interface NpyArray {
  shape: number[]
  data: Float32Array
}

/** Python's repr of a shape tuple: (), (5,), (2, 3) */
function shapeRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
}

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1)
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
    throw new Error(`shape [${shape.join(', ')}] does not hold ${data.length} values`)
  }
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`
  // 10 bytes precede the header: magic, version, uint16 header length
  const pad = ALIGN - ((10 + dict.length + 1) % ALIGN)
  const header = dict + ' '.repeat(pad) + '\n'
  if (header.length > 0xffff) throw new Error('npy header too long for format 1.0')
  const out = new Uint8Array(10 + header.length + data.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i)
  out[6] = 1
  out[7] = 0
  view.setUint16(8, header.length, true)
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i)
  const base = 10 + header.length
  for (let i = 0; i < data.length; i++) view.setFloat32(base + i * 4, data[i], true)
  return out
}

export function decodeNpy(bytes: Uint8Array, source = 'npy'): NpyArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) throw new Error(`${source}: not a .npy file`)
  if (bytes[6] !== 1) throw new Error(`${source}: .npy format ${bytes[6]}.${bytes[7]} is not supported (only 1.0)`)
  const headerLength = view.getUint16(8, true)
  const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength))
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (descr !== '<f4' || fortran !== 'False' || shapeText === undefined) {
    throw new Error(`${source}: only C-order little-endian float32 is supported, header is ${header.trim()}`)
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  const count = shape.reduce((a, b) => a * b, 1)
  const base = 10 + headerLength
  if (bytes.byteLength - base !== count * 4) throw new Error(`${source}: ${bytes.byteLength - base} data bytes for shape (${shape.join(', ')})`)
  const data = new Float32Array(count)
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + i * 4, true)
  return { shape, data }
}

export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape))
}

export async function readNpy(path: string): Promise<NpyArray> {
  return decodeNpy(new Uint8Array(await readFile(path)), path)
}
