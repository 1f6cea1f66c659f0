/**
 * Preprocessing cache layout: <dataset>/cache/<key>/ holds shard files and an index.
 * A shard is [u64 header length][JSON header][records]; each record is one clip's normalised fbank
 * (float32 [targetLength, numMelBins]) followed by its frames (uint8 [frames, 3, S, S]) and is checked
 * against the sha256 in the header when read. Shards are written under a temporary name and renamed.
 */
import { createHash } from 'node:crypto'

export const CACHE_FORMAT = 1

export interface CacheSettings {
  targetLength: number
  numMelBins: number
  frameSize: number
  frames: number
  norm: { mean: number; std: number }
}

export interface ShardRecord {
  id: string
  offset: number
  bytes: number
  sha256: string
}

export interface ShardHeader {
  format: number
  records: ShardRecord[]
}

export interface CacheIndex {
  format: number
  settings: CacheSettings
  shards: { file: string; ids: string[] }[]
  failures: { id: string; reason: string; detail: string }[]
}

/** Readable and unique per settings, so caches for different presets live side by side. */
export function cacheKey(s: CacheSettings): string {
  return `v${CACHE_FORMAT}-t${s.targetLength}-m${s.numMelBins}-f${s.frames}x${s.frameSize}-n${s.norm.mean}_${s.norm.std}`
}

export function recordBytes(s: CacheSettings): number {
  return s.targetLength * s.numMelBins * 4 + s.frames * 3 * s.frameSize * s.frameSize
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function encodeShard(records: { id: string; payload: Uint8Array }[]): Uint8Array {
  let offset = 0
  const header: ShardHeader = {
    format: CACHE_FORMAT,
    records: records.map((r) => {
      const rec = { id: r.id, offset, bytes: r.payload.byteLength, sha256: sha256(r.payload) }
      offset += r.payload.byteLength
      return rec
    })
  }
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.byteLength + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true)
  out.set(json, 8)
  let pos = 8 + json.byteLength
  for (const r of records) {
    out.set(r.payload, pos)
    pos += r.payload.byteLength
  }
  return out
}
