/**
 * What the embedding map's points are coloured by, and the legend that explains it: a clip's primary
 * label, its split or status in the catalog now, or the rank of its true pair in the other modality
 * (audio points by their audio→visual rank, visual points by visual→audio) on a continuous log scale.
 */
import type { EmbeddingMapMeta, MapClipStatus } from '../../../shared/contract'
import { NO_LABEL, colorOf } from './palette'

export const COLOUR_MODES = ['label', 'split', 'status', 'rank'] as const
export type ColourMode = (typeof COLOUR_MODES)[number]

export interface TrueRanks {
  a2v: readonly number[]
  v2a: readonly number[]
}

/** The colours of each clip's audio point and visual point (CSS colours, one per clip). */
export interface PointColours {
  audio: string[]
  visual: string[]
}

export type Legend = { kind: 'swatches'; items: { name: string; colour: string }[] } | { kind: 'scale'; title: string; stops: string[]; ticks: { rank: number; at: number }[] }

const SPLIT_COLOURS: Record<string, string> = { train: '#4e79a7', val: '#f28e2b', test: '#59a14f' }
const STATUS_COLOURS: Record<MapClipStatus, string> = { ok: '#59a14f', excluded: '#e15759', quarantined: '#f28e2b', missing: NO_LABEL }

/** viridis at 0, 0.25, 0.5, 0.75, 1 */
export const RANK_STOPS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']

const hex = (c: string): number[] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16))

/** the scale's colour at t in [0, 1], linear between the stops */
export function scaleColour(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 1)) * (RANK_STOPS.length - 1)
  const k = Math.min(RANK_STOPS.length - 2, Math.floor(x))
  const [a, b] = [hex(RANK_STOPS[k]), hex(RANK_STOPS[k + 1])]
  const f = x - k
  return `rgb(${a.map((v, j) => Math.round(v + (b[j] - v) * f)).join(', ')})`
}

/** rank 1 (retrieved first) → 0, rank n → 1, on a log scale: most ranks of a trained model are small */
export function rankPosition(rank: number, n: number): number {
  return n <= 1 ? 0 : Math.log(rank) / Math.log(n)
}

function categorical(meta: EmbeddingMapMeta, of: (i: number) => string): PointColours {
  const colours = Array.from({ length: meta.n }, (_, i) => of(i))
  return { audio: colours, visual: colours }
}

export function pointColours(mode: ColourMode, meta: EmbeddingMapMeta, ranks: TrueRanks | null): PointColours {
  switch (mode) {
    case 'label':
      return categorical(meta, (i) => colorOf(meta.labels[i]))
    case 'split':
      return categorical(meta, (i) => SPLIT_COLOURS[meta.splits[i] ?? ''] ?? NO_LABEL)
    case 'status':
      return categorical(meta, (i) => STATUS_COLOURS[meta.status[i]])
    case 'rank':
      if (!ranks) return categorical(meta, () => NO_LABEL)
      return {
        audio: ranks.a2v.map((r) => scaleColour(rankPosition(r, meta.n))),
        visual: ranks.v2a.map((r) => scaleColour(rankPosition(r, meta.n)))
      }
  }
}

/** how many clips of each category, for the legend */
function counted(names: readonly string[], values: readonly string[], colour: (name: string) => string): Legend {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return { kind: 'swatches', items: names.filter((name) => counts.has(name)).map((name) => ({ name: `${name} (${counts.get(name)})`, colour: colour(name) })) }
}

export function legendOf(mode: ColourMode, meta: EmbeddingMapMeta): Legend {
  switch (mode) {
    case 'label':
      return { kind: 'swatches', items: meta.classes.slice(0, 30).map((name, i) => ({ name, colour: colorOf(i) })) }
    case 'split':
      return counted(['train', 'val', 'test', 'missing'], meta.splits.map((s) => s ?? 'missing'), (s) => SPLIT_COLOURS[s] ?? NO_LABEL)
    case 'status':
      return counted(['ok', 'excluded', 'quarantined', 'missing'], meta.status, (s) => STATUS_COLOURS[s as MapClipStatus])
    case 'rank': {
      const n = meta.n
      const ticks = [...new Set([1, 10, 100, 1000, 10000, 100000].filter((r) => r < n).concat(n))]
      return { kind: 'scale', title: 'rank of the true pair (audio points A→V, visual points V→A)', stops: RANK_STOPS, ticks: ticks.map((rank) => ({ rank, at: rankPosition(rank, n) })) }
    }
  }
}
