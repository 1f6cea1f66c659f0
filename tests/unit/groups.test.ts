/**
 * Splits that keep a recording's windows together: the --group-by pattern, the group-preserving split
 * (property-tested: no group in two splits, the test share close to the requested one, the same for a
 * seed) and the import report's warning about names that look like windows of recordings.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WINDOW_NAME, groupOf, parseGroupBy, windowNamesWarning } from '../../src/main/data/groups'
import { groupedSplit } from '../../src/main/data/splits'

describe('--group-by', () => {
  it('names a file\'s recording by the first capture group of its base name', () => {
    const re = parseGroupBy('^(.+)_w\\d+\\.mp4$')
    expect(groupOf('/data/dogs/street_07_w3.mp4', re)).toBe('street_07')
    expect(groupOf('street_07_w4.mp4', re)).toBe('street_07')
    expect(groupOf('/data/dogs_w1/other.mp4', re)).toBeNull() // only the base name is matched; no match: no group
    expect(groupOf('rec1_w2.mp4', parseGroupBy('^(rec\\d+)|(x)'))).toBe('rec1')
  })

  it('refuses a pattern that is not a regular expression or captures nothing, saying why', () => {
    expect(() => parseGroupBy('^(.+_\\d+$')).toThrow(/--group-by "\^\(\.\+_\\\\d\+\$": not a regular expression/)
    expect(() => parseGroupBy('^rec\\d+')).toThrow(/needs a capture group/)
    expect(() => parseGroupBy('^(?:rec)\\d+')).toThrow(/needs a capture group/)
  })

  it('reads window names as recording + window number or time range', () => {
    const rec = (f: string): string | null => groupOf(f, WINDOW_NAME)
    expect(rec('rec07_12.mp4')).toBe('rec07')
    expect(rec('street-30-40.mkv')).toBe('street')
    expect(rec('street-30s-40s.mkv')).toBe('street')
    expect(rec('take2 0.5s.mp4')).toBe('take2')
    expect(rec('dog_bark_003.wav')).toBe('dog_bark')
    expect(rec('plain.mp4')).toBeNull()
  })
})

describe('windowNamesWarning', () => {
  it('warns when most names are windows of fewer recordings, and suggests the grouping', () => {
    const files = Array.from({ length: 21 }, (_, s) => [0, 1, 2].map((w) => `/d/src${String(s).padStart(2, '0')}_${w * 10}-${w * 10 + 10}.mp4`)).flat()
    const w = windowNamesWarning(files)
    expect(w).toMatch(/^63 of 63 file names look like windows of 21 recordings \(e\.g\. "src00_0-10\.mp4", "src00_10-20\.mp4"\)/)
    expect(w).toContain(`--group-by '${WINDOW_NAME.source}'`)
    // the suggested pattern groups them as the warning counts them
    expect(new Set(files.map((f) => groupOf(f, parseGroupBy(WINDOW_NAME.source)))).size).toBe(21)
  })

  it('stays quiet for distinct names, for numbered names of no shared recording, and for a few windows among many', () => {
    expect(windowNamesWarning(['a.mp4', 'b.mp4', 'cat.mkv', 'dog.webm'])).toBeNull()
    expect(windowNamesWarning(['00001.mp4', '00002.mp4', '00003.mp4', '00004.mp4'])).toBeNull()
    expect(windowNamesWarning(['rec1_1.mp4', 'rec1_2.mp4', 'rec2_1.mp4', 'rec2_2.mp4', ...'abcdefgh'.split('').map((c) => `${c}.mp4`)])).toBeNull()
  })
})

describe('groupedSplit', () => {
  // clips as (group, label): groups of 1–6 clips, some clips without a group
  const clips = fc.array(fc.record({ group: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }), label: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 300 })

  it('never puts one group in two splits, keeps the test share near the request, and is fixed by the seed', () => {
    fc.assert(
      fc.property(clips, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.nat(1000), (cs, fraction, seed) => {
        // a group's clips share its label (a recording has one class), as an import of class folders gives
        const groups = cs.map((c) => (c.group === null ? null : `g${c.group}`))
        const labels = cs.map((c) => (c.group === null ? c.label : c.group % 3))
        const s = groupedSplit(groups, labels, fraction, seed)
        const seen = new Map<string, string>()
        groups.forEach((g, i) => {
          if (g === null) return
          expect(seen.get(g) ?? s[i]).toBe(s[i])
          seen.set(g, s[i])
        })
        // per class the greedy choice ends within half the largest group of the class's target
        const size = new Map<string, number>()
        groups.forEach((g, i) => size.set(g ?? `\0${i}`, (size.get(g ?? `\0${i}`) ?? 0) + 1))
        let slack = 0
        for (const label of new Set(labels)) {
          const largest = Math.max(...groups.map((g, i) => (labels[i] === label ? size.get(g ?? `\0${i}`)! : 0)))
          slack += largest / 2
        }
        const inTest = s.filter((x) => x === 'test').length
        expect(Math.abs(inTest - fraction * cs.length)).toBeLessThanOrEqual(slack + 1e-9)
        expect(groupedSplit(groups, labels, fraction, seed)).toEqual(s)
      }),
      { numRuns: 300 }
    )
  })

  it('gives 21 recordings of 3 windows whole to one split each, a fifth of them to test', () => {
    const groups = Array.from({ length: 63 }, (_, i) => `src${Math.floor(i / 3)}`)
    const s = groupedSplit(groups, groups.map(() => 0), 0.2, 7)
    const testGroups = new Set(groups.filter((_, i) => s[i] === 'test'))
    const trainGroups = new Set(groups.filter((_, i) => s[i] === 'train'))
    expect([...testGroups].filter((g) => trainGroups.has(g))).toEqual([])
    expect(testGroups.size).toBe(4) // 12 of 63 clips: 12.6 requested
    expect(groupedSplit(groups, groups.map(() => 0), 0.2, 8)).not.toEqual(s)
  })
})
