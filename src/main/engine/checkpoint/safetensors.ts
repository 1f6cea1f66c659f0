/**
 * safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
 * then the raw little-endian tensor bytes. Read into float32 HostTensors; written as F32.
 */
import { BYTES_PER_ELEMENT as BYTES, type DType, type TensorDict, numel } from './tensors'

interface HeaderEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}


function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * 2 ** -14 * (f / 1024)
  if (e === 31) return f ? NaN : s * Infinity
  return s * 2 ** (e - 15) * (1 + f / 1024)
}

/** Convert little-endian raw bytes of a stored dtype to float32. */
export function toFloat32(dtype: DType, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32': out[i] = view.getFloat32(i * 4, true); break
      case 'F64': out[i] = view.getFloat64(i * 8, true); break
      case 'F16': out[i] = halfToFloat(view.getUint16(i * 2, true)); break
      case 'BF16': out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]; break
      case 'I64': out[i] = Number(view.getBigInt64(i * 8, true)); break
      case 'I32': out[i] = view.getInt32(i * 4, true); break
      case 'U8': case 'BOOL': out[i] = view.getUint8(i); break
    }
  }
  return out
}

export function parseSafetensors(buf: Uint8Array, source = 'safetensors'): TensorDict {
  if (buf.byteLength < 8) throw new Error(`${source}: not a safetensors file (shorter than its 8-byte header length)`)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const headerLen = Number(view.getBigUint64(0, true))
  if (headerLen > buf.byteLength - 8) throw new Error(`${source}: header length ${headerLen} exceeds file size`)
  let header: Record<string, HeaderEntry | Record<string, string>>
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)))
  } catch (err) {
    throw new Error(`${source}: header is not valid JSON (${(err as Error).message})`, { cause: err })
  }
  const base = 8 + headerLen
  const out: TensorDict = new Map()
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue
    const entry = raw as HeaderEntry
    const dtype = entry.dtype as DType
    if (!(dtype in BYTES)) throw new Error(`${source}: tensor ${name} has unsupported dtype ${entry.dtype}`)
    const [start, end] = entry.data_offsets
    const count = numel(entry.shape)
    if (end - start !== count * BYTES[dtype] || base + end > buf.byteLength) {
      throw new Error(`${source}: tensor ${name} has inconsistent offsets [${start}, ${end}) for shape [${entry.shape}]`)
    }
    const bytes = buf.slice(base + start, base + end) // copy: aligned, independent of the file buffer
    out.set(name, { shape: entry.shape, dtype, data: toFloat32(dtype, bytes, count) })
  }
  return out
}

/** Serialise as F32 safetensors (keys sorted, so equal dicts give identical bytes). */
export function serializeSafetensors(tensors: TensorDict, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort()
  const header: Record<string, unknown> = {}
  if (metadata) header.__metadata__ = metadata
  let offset = 0
  for (const name of names) {
    const t = tensors.get(name)!
    if (t.data.length !== numel(t.shape)) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape}]`)
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8) // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + headerBytes.byteLength + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true)
  out.set(headerBytes, 8)
  let pos = 8 + headerBytes.byteLength
  for (const name of names) {
    const d = tensors.get(name)!.data
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos)
    pos += d.byteLength
  }
  return out
}
