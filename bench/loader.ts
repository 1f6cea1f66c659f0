/**
 * Data-path throughput: clips/s of reading a prepared cache (verified records → RawClip) and of building
 * pretraining batches from them (roll, augmentations, S virtual vectors), to compare with the engine's
 * consumption (clips_per_s in a run's metrics.jsonl).
 * Usage: tsx bench/loader.ts <cache dir> [clips=256] [preset=tiny]
 */
import { CacheReader } from '../src/main/data/cache'
import { PRESETS, type PresetName } from '../src/main/engine/config'
import { derivedRng } from '../src/main/engine/train/data-source'
import { collateBatch } from '../src/main/engine/train/views'

const [dir, countArg = '256', preset = 'tiny'] = process.argv.slice(2)
if (!dir) throw new Error('usage: tsx bench/loader.ts <cache dir> [clips] [preset]')
const reader = await CacheReader.open(dir)
const ids = reader.index.shards.flatMap((s) => s.ids).slice(0, Number(countArg))
const t0 = performance.now()
const clips = []
for (const id of ids) clips.push(await reader.clip(id, 0))
const readMs = performance.now() - t0
const model = PRESETS[preset as PresetName]
const t1 = performance.now()
for (let i = 0; i + 16 <= clips.length; i += 16) collateBatch(clips.slice(i, i + 16), derivedRng(0, 'step', i), model)
const collateMs = performance.now() - t1
await reader.close()
const batched = Math.floor(clips.length / 16) * 16
console.log(JSON.stringify({ clips: ids.length, read_clips_per_s: (ids.length / readMs) * 1000, collate_clips_per_s: (batched / collateMs) * 1000, preset }))
