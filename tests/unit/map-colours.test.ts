import { describe, expect, it } from 'vitest'
import type { EmbeddingMapMeta } from '../../src/shared/contract'
import { RANK_STOPS, legendOf, pointColours, rankPosition, scaleColour } from '../../src/renderer/src/lib/map-colours'
import { clipListCsv, clipListText } from '../../src/renderer/src/lib/clip-list'
import { NO_LABEL, colorOf } from '../../src/renderer/src/lib/palette'

const meta: EmbeddingMapMeta = {
  n: 4,
  ids: ['a', 'b', 'c', 'd'],
  labels: [0, 1, -1, 1],
  splits: ['train', 'test', null, 'test'],
  status: ['ok', 'excluded', 'missing', 'ok'],
  classes: ['one', 'two'],
  columns: ['ax', 'ay', 'vx', 'vy'],
  version: 1
}
const rgb = (c: string): number[] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16))

describe('map colours', () => {
  it('colours both points of a clip by its label, split or status', () => {
    expect(pointColours('label', meta, null).audio).toEqual([colorOf(0), colorOf(1), NO_LABEL, colorOf(1)])
    const split = pointColours('split', meta, null)
    expect(split.visual).toEqual(split.audio)
    expect(new Set(split.audio).size).toBe(3) // train, test, missing
    expect(split.audio[1]).toBe(split.audio[3])
    const status = pointColours('status', meta, null).audio
    expect(status[0]).toBe(status[3])
    expect(status[1]).not.toBe(status[0])
  })

  it('puts rank 1 at one end of a log scale and rank n at the other, audio by A→V and visual by V→A', () => {
    expect(rankPosition(1, 240)).toBe(0)
    expect(rankPosition(240, 240)).toBe(1)
    expect(rankPosition(Math.sqrt(240), 240)).toBeCloseTo(0.5, 12)
    expect(scaleColour(0)).toBe(`rgb(${rgb(RANK_STOPS[0]).join(', ')})`)
    expect(scaleColour(1)).toBe(`rgb(${rgb(RANK_STOPS[4]).join(', ')})`)
    expect(scaleColour(0.125)).toBe(`rgb(${rgb(RANK_STOPS[0]).map((v, j) => Math.round((v + rgb(RANK_STOPS[1])[j]) / 2)).join(', ')})`)
    const c = pointColours('rank', meta, { a2v: [1, 4, 2, 1], v2a: [4, 1, 1, 1] })
    expect(c.audio[0]).toBe(scaleColour(0))
    expect(c.visual[0]).toBe(scaleColour(1))
    expect(c.audio[2]).toBe(scaleColour(0.5)) // log 2 / log 4
    expect(pointColours('rank', meta, null).audio).toEqual(Array(4).fill(NO_LABEL)) // until the ranks arrive
  })

  it('explains the colours: counted categories, or the rank scale with its ticks', () => {
    expect(legendOf('split', meta)).toEqual({ kind: 'swatches', items: [expect.objectContaining({ name: 'train (1)' }), expect.objectContaining({ name: 'test (2)' }), expect.objectContaining({ name: 'missing (1)' })] })
    expect(legendOf('status', meta)).toMatchObject({ items: [{ name: 'ok (2)' }, { name: 'excluded (1)' }, { name: 'missing (1)' }] })
    const scale = legendOf('rank', { ...meta, n: 240 })
    expect(scale).toMatchObject({ kind: 'scale', ticks: [{ rank: 1, at: 0 }, { rank: 10 }, { rank: 100 }, { rank: 240, at: 1 }] })
  })
})

describe('clip lists', () => {
  const rows = [
    { id: 'cat/a.mp4', label: 'cat', split: 'train', status: 'ok' },
    { id: 'odd, "name".mp4', label: '', split: 'test', status: 'excluded' }
  ]
  it('writes one id per line, or a CSV whose quoted fields survive', () => {
    expect(clipListText(rows)).toBe('cat/a.mp4\nodd, "name".mp4\n')
    expect(clipListCsv(rows)).toBe('id,label,split,status\r\ncat/a.mp4,cat,train,ok\r\n"odd, ""name"".mp4",,test,excluded\r\n')
  })
})
