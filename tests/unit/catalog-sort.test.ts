/**
 * Search and sort of the clip list, checked against a reference written here in plain TypeScript: the
 * server's keyset pages at any offset under any sort and filter, the matching count, and a clip's position
 * (what the Datasets view scrolls to) equal slices of the reference order, before and after edits.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { Catalog, type ClipFilter, type ClipRecord, type ClipSort, SORT_COLUMNS } from '../../src/main/data/catalog'
import { DatasetCatalogs } from '../../src/main/data/datasets'

const root = mkdtempSync(join(tmpdir(), 'equiav-catalog-sort-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const CLASSES = ['Bell', 'bird song', 'Engine', 'rain']
const N = 420

/** a small deterministic generator, so the catalog is the same on every run */
function mulberry(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function clips(): ClipRecord[] {
  const r = mulberry(7)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  return Array.from({ length: N }, (_, i) => {
    const status = pick(['ok', 'ok', 'ok', 'quarantined', 'missing'] as const)
    return {
      // mixed case and a few non-ASCII ids: the order is SQLite's (UTF-8 bytes), the search folds ASCII only
      id: `${pick(['cat', 'Cat', 'dog', 'Éclair', 'rec_'])}${String(Math.floor(r() * 1000)).padStart(3, '0')}-${i}.mp4`,
      path: `/nowhere/${i}.mp4`,
      size: 1,
      mtimeMs: 0,
      // many ties, and none for quarantined clips
      duration: status === 'quarantined' ? null : pick([0.5, 1, 1, 2.5, 3]),
      audio: null,
      video: null,
      labels: status === 'missing' && r() < 0.3 ? [] : [Math.floor(r() * CLASSES.length), ...(r() < 0.4 ? [Math.floor(r() * CLASSES.length)] : [])],
      split: status === 'ok' ? pick(['train', 'train', 'test', 'val'] as const) : null,
      status,
      reason: status === 'quarantined' ? 'corrupt' : null,
      detail: null,
      hash: null,
      excluded: r() < 0.1
    }
  })
}

// ---- the reference: the same filter and order, computed over all records in memory ----
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

function matches(c: ClipRecord, f: ClipFilter): boolean {
  if (f.search !== undefined) {
    const q = asciiLower(f.search)
    if (!asciiLower(c.id).includes(q) && !c.labels.some((l) => asciiLower(CLASSES[l]).includes(q))) return false
  }
  if (f.status !== undefined && c.status !== f.status) return false
  if (f.split !== undefined && c.split !== f.split) return false
  if (f.label !== undefined && !c.labels.includes(f.label)) return false
  if (f.excluded !== undefined && c.excluded !== f.excluded) return false
  return true
}

function keyOf(c: ClipRecord, by: ClipSort['by']): number | string {
  if (by === 'import') return c.seq ?? 0
  if (by === 'label') return c.labels[0] ?? -1
  if (by === 'duration') return c.duration ?? -1
  if (by === 'split') return c.split ?? ''
  return c[by]
}

function referenceOrder(all: ClipRecord[], f: ClipFilter, sort: ClipSort): string[] {
  const cmp = (a: ClipRecord, b: ClipRecord): number => {
    const ka = keyOf(a, sort.by)
    const kb = keyOf(b, sort.by)
    const k = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : Buffer.compare(Buffer.from(String(ka)), Buffer.from(String(kb)))
    return (sort.desc ? -1 : 1) * (k !== 0 ? k : (a.seq ?? 0) - (b.seq ?? 0))
  }
  return all
    .filter((c) => matches(c, f))
    .sort(cmp)
    .map((c) => c.id)
}

const filterArb = fc.record(
  {
    search: fc.constantFrom('cat', 'CAT', 'É', 'é', 'bell', 'SONG', 'rain', '-1', '_', '%', 'zzz'),
    status: fc.constantFrom('ok', 'quarantined', 'missing'),
    split: fc.constantFrom('train', 'test', 'val'),
    label: fc.integer({ min: 0, max: CLASSES.length - 1 }),
    excluded: fc.boolean()
  },
  { requiredKeys: [] }
) as fc.Arbitrary<ClipFilter>
const sortArb = fc.record({ by: fc.constantFrom(...SORT_COLUMNS), desc: fc.boolean() })

describe('clip search and sort', () => {
  const dir = join(root, 'ws', 'datasets', 'sorted')
  const seed = Catalog.open(dir)
  seed.setClasses(CLASSES)
  seed.upsert(clips())
  seed.close()

  it('searches ids and class names (ASCII case folded; % and _ are plain characters)', () => {
    const c = Catalog.open(dir)
    try {
      const all = c.list()
      for (const search of ['cat', 'CaT', 'bird', 'ÉCLAIR', '%', '_']) {
        const want = all.filter((r) => matches(r, { search })).map((r) => r.id)
        expect(c.list({ search }).map((r) => r.id)).toEqual(want)
        expect(c.count({ search })).toBe(want.length)
      }
      // by a label's name: every clip with a 'bird song' label, and no other, matches 'song'
      expect(c.list({ search: 'song' }).every((r) => r.labels.includes(1) || r.id.toLowerCase().includes('song'))).toBe(true)
      expect(c.count({ search: 'song' })).toBe(all.filter((r) => r.labels.includes(1)).length)
      expect(c.count({ search: '%' })).toBe(0)
    } finally {
      c.close()
    }
  })

  it('keyset pages under any sort equal the reference order at any offset; the count and positions too, before and after edits', async () => {
    const pool = new DatasetCatalogs(join(root, 'ws'), 30_000, 37)
    const plain = Catalog.open(dir)
    try {
      await fc.assert(
        fc.asyncProperty(
          filterArb,
          sortArb,
          fc.array(fc.integer({ min: 0, max: N + 20 }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 250 }),
          fc.option(fc.record({ i: fc.integer({ min: 0, max: N - 1 }), duration: fc.constantFrom(0.5, 1, 7), primary: fc.integer({ min: 0, max: CLASSES.length - 1 }) })),
          async (f, sort, offsets, limit, edit) => {
            if (edit) {
              const id = plain.list({ offset: edit.i, limit: 1 })[0].id
              await pool.use('sorted', (c) => c.upsert([{ ...c.get(id)!, duration: edit.duration }]))
              await pool.use('sorted', (c) => c.edit(id, { primary: edit.primary }))
            }
            const want = referenceOrder(plain.list(), f, sort)
            expect(await pool.count('sorted', f)).toBe(want.length)
            for (const offset of offsets) {
              expect((await pool.page('sorted', f, offset, limit, sort)).map((r) => r.id)).toEqual(want.slice(offset, offset + limit))
            }
            for (const k of [0, Math.floor(want.length / 2), want.length - 1, want.length >> 3]) {
              if (k >= 0 && k < want.length) expect(await pool.position('sorted', f, sort, want[k])).toBe(k)
            }
            const left = plain.list().find((r) => !matches(r, f))
            if (left) expect(await pool.position('sorted', f, sort, left.id)).toBeNull()
          }
        ),
        { numRuns: 80 }
      )
      expect(await pool.position('sorted', {}, { by: 'id' }, 'no such clip')).toBeNull()
    } finally {
      plain.close()
      pool.close()
    }
  }, 120_000)
})
