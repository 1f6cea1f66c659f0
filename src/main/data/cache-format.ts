/**
 * Preprocessing cache layout: <dataset>/cache/<key>/ holds shard files and an index.
 * A shard is [u64 header length][JSON header][records]; each record is one clip's normalised fbank
 * (float32 [n, numMelBins], n = its first FBANK_WINDOW_FRAMES frames, padded to at least targetLength),
 * each frame's time on that fbank's axis (float32 [frames], in fbank frames), then its frames (uint8
 * [frames, 3, S, S]); it is checked against the sha256 in the header when read. Shards are written under
 * a temporary name and renamed. Format 2 added the fbank beyond targetLength and the frame times, so
 * training can pick an audio window and a frame inside it (engine/train/window.ts).
 */
import { createHash } from 'node:crypto'

export const CACHE_FORMAT = 2

/** The official loader's fbank length: 1024 frames (10.24 s) of each clip, cut or zero-padded. */
export const FBANK_WINDOW_FRAMES = 1024

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

/** Fbank frames stored for a clip with `valid` frames: all of the first 1024, at least targetLength. */
export function storedFbankFrames(valid: number, s: CacheSettings): number {
  return Math.max(s.targetLength, Math.min(valid, FBANK_WINDOW_FRAMES))
}

/** Bytes of a record whose fbank has n frames. */
export function recordBytes(s: CacheSettings, n: number): number {
  return n * s.numMelBins * 4 + s.frames * 4 + s.frames * 3 * s.frameSize * s.frameSize
}

/** The fbank length n of a record of `bytes` bytes (the inverse of recordBytes). */
export function recordFbankFrames(s: CacheSettings, bytes: number): number {
  const n = (bytes - s.frames * 4 - s.frames * 3 * s.frameSize * s.frameSize) / (s.numMelBins * 4)
  if (!Number.isInteger(n) || n < s.targetLength) throw new Error(`a cache record of ${bytes} bytes does not fit settings ${cacheKey(s)}`)
  return n
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
