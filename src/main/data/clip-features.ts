/**
 * A clip's model inputs for the inspector — the normalised fbank [T, F] and its 10 frames [3, S, S] —
 * from a preprocessing cache of its dataset that holds it (the tiny preset's with the dataset's input
 * statistics first), else computed on demand for that preset (decode + Kaldi fbank + frames, about a second). The last few clips are kept in memory.
 */
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { OFFICIAL_INPUT_NORM, PRESETS } from '../engine/config'
import { CacheReader, decodeRecord } from './cache'
import { evalFrameIndex, evalWindow } from '../engine/train/window'
import { CACHE_FORMAT, type CacheSettings, cacheKey } from './cache-format'
import { Catalog, type ClipRecord } from './catalog'
import { storedInputNorm } from './input-norm'
import { cacheSettingsFor } from './dataset-source'
import { prepareClip } from './prepare-clip'

export interface ClipFeatures {
  settings: CacheSettings
  /** [T, F] normalised log-mel, time-major: the window evaluation uses (the middle one, train/window.ts) */
  fbank: Float32Array
  /** each [3, S, S] in [0, 1] */
  frames: Float32Array[]
  /** the frame evaluation pairs with that window */
  evalFrame: number
  /** 'cache' when read from a prepared cache, 'decoded' when computed now */
  from: 'cache' | 'decoded'
}

/** The clip from a cache of the dataset: the one of `preferred` settings first, else any that holds it. */
async function fromCache(datasetDir: string, id: string, preferred: CacheSettings): Promise<ClipFeatures | null> {
  const root = join(datasetDir, 'cache')
  if (!existsSync(root)) return null
  const first = cacheKey(preferred)
  const dirs = (await readdir(root)).sort((a, b) => Number(b === first) - Number(a === first) || a.localeCompare(b))
  for (const d of dirs) {
    if (!existsSync(join(root, d, 'index.json'))) continue
    const reader = await CacheReader.open(join(root, d)).catch(() => null)
    if (!reader) continue
    try {
      if (reader.index.format === CACHE_FORMAT && reader.has(id)) return evalView(id, reader.index.settings, await reader.record(id), 'cache')
    } finally {
      await reader.close()
    }
  }
  return null
}

/** A record's evaluation window and its frames. */
function evalView(id: string, settings: CacheSettings, record: Uint8Array, from: ClipFeatures['from']): ClipFeatures {
  const clip = { id, label: -1, ...decodeRecord(record, settings) }
  const w = evalWindow(clip, settings.targetLength, settings.numMelBins)
  return { settings, fbank: w.fbank, frames: clip.frames, evalFrame: evalFrameIndex(w), from }
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
    // the spectrogram as the model sees it: normalised with the dataset's statistics when it has them
    const catalog = Catalog.open(datasetDir)
    const inputNorm = storedInputNorm(catalog) ?? OFFICIAL_INPUT_NORM
    catalog.close()
    const settings = cacheSettingsFor({ ...PRESETS.tiny, inputNorm })
    const cached = await fromCache(datasetDir, clip.id, settings)
    if (cached) return cached
    return evalView(clip.id, settings, await prepareClip(clip.path, settings), 'decoded')
  }
}
