import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Catalog, type ClipRecord } from '../../src/main/data/catalog'
import { stratifiedSplit } from '../../src/main/data/splits'

const dir = mkdtempSync(join(tmpdir(), 'equiav-catalog-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function clip(i: number, extra: Partial<ClipRecord> = {}): ClipRecord {
  return {
    id: `c${i}`,
    path: `/media/c${i}.mp4`,
    size: 100 + i,
    mtimeMs: 1000,
    duration: 3,
    audio: 'aac',
    video: 'h264',
    labels: [i % 3],
    split: i % 5 === 0 ? 'test' : 'train',
    status: 'ok',
    reason: null,
    detail: null,
    hash: `h${i}`,
    excluded: false,
    ...extra
  }
}

describe('Catalog', () => {
  it('stores, filters, pages and counts clips, and survives reopening', () => {
    const cat = Catalog.open(join(dir, 'a'))
    cat.setClasses(['x', 'y', 'z'])
    cat.upsert(Array.from({ length: 20 }, (_, i) => clip(i)))
    cat.upsert([clip(3, { status: 'quarantined', reason: 'corrupt', detail: 'bad', split: null })])
    cat.close()

    const again = Catalog.open(join(dir, 'a'))
    expect(again.classes()).toEqual(['x', 'y', 'z'])
    expect(again.counts()).toEqual({ total: 20, ok: 19, quarantined: 1, missing: 0, byReason: { corrupt: 1 }, bySplit: { test: 4, train: 15 } })
    expect(again.list({ status: 'ok', limit: 5, offset: 5 }).map((c) => c.id)).toEqual(['c6', 'c7', 'c8', 'c9', 'c10'])
    expect(again.list({ label: 2 }).map((c) => c.id)).toEqual(['c2', 'c5', 'c8', 'c11', 'c14', 'c17'])
    expect(again.list({ split: 'test' }).map((c) => c.id)).toEqual(['c0', 'c5', 'c10', 'c15'])
    expect(again.get('c3')).toMatchObject({ status: 'quarantined', reason: 'corrupt', detail: 'bad' })
    expect(again.seenFiles().get('/media/c4.mp4')).toEqual({ size: 104, mtimeMs: 1000 })
    again.close()
  })

  it('applies the user\'s edits and lists excluded clips apart', () => {
    const cat = Catalog.open(join(dir, 'c'))
    cat.setClasses(['x', 'y', 'z'])
    cat.upsert([clip(1), clip(2)])
    expect(cat.edit('c1', { labels: [2, 0], split: 'test' })).toMatchObject({ labels: [2, 0], split: 'test' })
    cat.edit('c2', { excluded: true })
    expect(cat.list({ status: 'ok', excluded: false }).map((c) => c.id)).toEqual(['c1'])
    expect(cat.get('c2')).toMatchObject({ excluded: true, labels: [2] })
    expect(() => cat.edit('c1', { labels: [3] })).toThrow(/label 3 is not a class index \(0–2\)/)
    expect(() => cat.edit('nope', { excluded: true })).toThrow(/no clip "nope"/)
    cat.close()
  })

  it('edits a selection all or none, and a new primary label replaces the old one (the others kept)', () => {
    const cat = Catalog.open(join(dir, 'm'))
    cat.setClasses(['x', 'y', 'z'])
    cat.upsert([clip(1), clip(2), clip(3)])
    cat.edit('c1', { labels: [2, 0] })
    cat.edit('c2', { labels: [0, 1] })
    expect(cat.editMany(['c1', 'c2'], { primary: 1, split: 'val' }).map((c) => [c.labels, c.split])).toEqual([
      [[1, 0], 'val'],
      [[1], 'val']
    ])
    expect(cat.get('c1')).toMatchObject({ labels: [1, 0], split: 'val' })
    expect(() => cat.editMany(['c3', 'nope'], { excluded: true })).toThrow(/no clip "nope"/)
    expect(() => cat.editMany(['c3', 'c1'], { primary: 5 })).toThrow(/clip "c3": label 5 is not a class index/)
    expect(cat.get('c3')).toMatchObject({ excluded: false, labels: [0] })
    expect(cat.edit('c3', { excluded: true, split: undefined })).toMatchObject({ excluded: true, labels: [0], split: 'train' })
    cat.close()
  })

  it('keeps the user\'s edits when clips are registered again, and inserts only new ids', () => {
    const cat = Catalog.open(join(dir, 'd'))
    cat.setClasses(['x', 'y', 'z'], ['/m/x', '/m/y', '/m/z'])
    cat.upsertKeepingEdits([clip(1), clip(2)])
    cat.edit('c1', { labels: [2], split: 'test', excluded: true })
    cat.upsertKeepingEdits([clip(1, { path: '/moved/c1.mp4', hash: 'new' }), clip(2)])
    expect(cat.get('c1')).toMatchObject({ labels: [2], split: 'test', excluded: true, path: '/moved/c1.mp4', hash: 'new' })
    expect(cat.insertNew([clip(2, { path: '/other.mp4' }), clip(3), clip(4, { status: 'missing', detail: 'not downloaded' })])).toBe(2)
    expect(cat.get('c2')?.path).toBe('/media/c2.mp4')
    expect(cat.ids()).toEqual(new Set(['c1', 'c2', 'c3', 'c4']))
    expect(cat.counts()).toMatchObject({ total: 4, ok: 3, quarantined: 0, missing: 1 })
    expect(cat.classMids()).toEqual(['/m/x', '/m/y', '/m/z'])
    cat.close()
  })

  it('rolls a failed batch back completely', () => {
    const cat = Catalog.open(join(dir, 'b'))
    const bad = { ...clip(2), labels: undefined as unknown as number[], path: null as unknown as string }
    expect(() => cat.upsert([clip(1), bad])).toThrow()
    expect(cat.counts().total).toBe(0)
    cat.close()
  })
})

describe('stratifiedSplit', () => {
  it('splits every class in the same proportion, deterministically by seed', () => {
    const labels = [...Array(50).fill(0), ...Array(30).fill(1), ...Array(20).fill(2)]
    const s = stratifiedSplit(labels, 0.2, 7)
    const testOf = (c: number): number => s.filter((x, i) => x === 'test' && labels[i] === c).length
    expect([testOf(0), testOf(1), testOf(2)]).toEqual([10, 6, 4])
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(s)
    expect(stratifiedSplit(labels, 0.2, 8)).not.toEqual(s)
  })
})
