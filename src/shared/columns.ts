/**
 * Binary columns: equal-length float32 columns laid end to end, little-endian, with no header — the
 * count and the column names travel in the JSON metadata beside them. How the embedding map's points
 * reach the renderer (once, as one buffer; never JSON per point). Runtime-neutral.
 */

/** The embedding map's columns, in their order on the wire. */
export const MAP_COLUMNS = ['ax', 'ay', 'vx', 'vy'] as const
export type MapColumn = (typeof MAP_COLUMNS)[number]

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function encodeColumns(columns: readonly Float32Array[]): Uint8Array<ArrayBuffer> {
  const n = columns[0]?.length ?? 0
  columns.forEach((c, i) => {
    if (c.length !== n) throw new Error(`column ${i} has ${c.length} values, column 0 has ${n}`)
  })
  const out = new Uint8Array(columns.length * n * 4)
  const view = new DataView(out.buffer)
  columns.forEach((c, ci) => {
    const base = ci * n * 4
    if (littleEndianHost) out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), base)
    else for (let i = 0; i < n; i++) view.setFloat32(base + i * 4, c[i], true)
  })
  return out
}

/** Splits a buffer of `names.length` columns of `count` float32 values; checks the byte length. */
export function decodeColumns<N extends string>(bytes: ArrayBuffer | Uint8Array, count: number, names: readonly N[]): Record<N, Float32Array> {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  const expected = names.length * count * 4
  if (u8.byteLength !== expected) {
    throw new Error(`binary columns: ${u8.byteLength} bytes, expected ${expected} (${names.length} columns × ${count} float32)`)
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength)
  const out = {} as Record<N, Float32Array>
  names.forEach((name, ci) => {
    const base = ci * count * 4
    const col = new Float32Array(count)
    if (littleEndianHost && (u8.byteOffset + base) % 4 === 0) col.set(new Float32Array(u8.buffer, u8.byteOffset + base, count))
    else for (let i = 0; i < count; i++) col[i] = view.getFloat32(base + i * 4, true)
    out[name] = col
  })
  return out
}
