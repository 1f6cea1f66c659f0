/**
 * A clip's model inputs for the inspector — the normalised fbank [T, F] and its 10 frames [3, S, S] —
 * from any preprocessing cache of its dataset that holds it, else computed on demand for the tiny preset
 * (decode + Kaldi fbank + frames, about a second). The last few clips are kept in memory.
 */
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PRESETS } from '../engine/config'
import { CacheReader, decodeRecord } from './cache'
import type { CacheSettings } from './cache-format'
import type { ClipRecord } from './catalog'
import { cacheSettingsFor } from './dataset-source'
import { prepareClip } from './prepare-clip'

export interface ClipFeatures {
  settings: CacheSettings
  /** [T, F] normalised log-mel, time-major */
  fbank: Float32Array
  /** each [3, S, S] in [0, 1] */
  frames: Float32Array[]
  /** 'cache' when read from a prepared cache, 'decoded' when computed now */
  from: 'cache' | 'decoded'
}

async function fromCache(datasetDir: string, id: string): Promise<ClipFeatures | null> {
  const root = join(datasetDir, 'cache')
  if (!existsSync(root)) return null
  for (const d of (await readdir(root)).sort()) {
    if (!existsSync(join(root, d, 'index.json'))) continue
    const reader = await CacheReader.open(join(root, d)).catch(() => null)
    if (!reader) continue
    try {
      if (reader.has(id)) return { settings: reader.index.settings, ...decodeRecord(await reader.record(id), reader.index.settings), from: 'cache' }
    } finally {
      await reader.close()
    }
  }
  return null
}

export class ClipFeatureStore {
  private readonly memo = new Map<string, Promise<ClipFeatures>>()

  constructor(private readonly keep = 8) {}

  get(datasetDir: string, clip: ClipRecord): Promise<ClipFeatures> {
    const key = `${datasetDir}\0${clip.id}`
    let got = this.memo.get(key)
    if (!got) {
      got = this.load(datasetDir, clip)
      got.catch(() => this.memo.delete(key))
      this.memo.set(key, got)
      while (this.memo.size > this.keep) this.memo.delete(this.memo.keys().next().value as string)
    }
    return got
  }

  private async load(datasetDir: string, clip: ClipRecord): Promise<ClipFeatures> {
    const cached = await fromCache(datasetDir, clip.id)
    if (cached) return cached
    const settings = cacheSettingsFor(PRESETS.tiny)
    return { settings, ...decodeRecord(await prepareClip(clip.path, settings), settings), from: 'decoded' }
  }
}
