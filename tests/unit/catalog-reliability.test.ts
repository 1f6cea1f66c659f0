/**
 * The catalog under other processes and repeated imports (issue 13): a lock left by a killed process is
 * cleared, a live one is waited for without blocking the event loop, class lists only grow, imports into
 * one dataset are serialised, a failed import leaves no empty dataset, and keyset pages and sliced counts
 * equal the plain queries.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { Catalog, CatalogBusyError, type ClipRecord } from '../../src/main/data/catalog'
import { DatasetCatalogs, listDatasets } from '../../src/main/data/datasets'
import { importDataset } from '../../src/main/data/dataset-import'
import { importFolder } from '../../src/main/data/importers/folder'
import type { InspectedClip } from '../../src/main/data/inspect'
import type { JobContext } from '../../src/main/jobs/context'
import { createMediaDir } from '../helpers/media'

const root = mkdtempSync(join(tmpdir(), 'equiav-catalog-rel-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const SQLITE = resolve(__dirname, '../../node_modules/node-sqlite3-wasm')

const clip = (i: number, extra: Partial<ClipRecord> = {}): ClipRecord => ({
  id: `c${i}.mp4`, path: `/x/c${i}.mp4`, size: 1, mtimeMs: 0, duration: 1 + (i % 7), audio: 'a', video: 'v', labels: [i % 3], split: i % 4 === 0 ? 'test' : 'train',
  status: i % 11 === 0 ? 'quarantined' : i % 13 === 0 ? 'missing' : 'ok', reason: i % 11 === 0 ? 'corrupt' : null, detail: null, hash: String(i), excluded: i % 5 === 0, ...extra
})

function newDataset(name: string, clips = 0): string {
  const dir = join(root, 'ws', 'datasets', name)
  const c = Catalog.open(dir)
  c.setClasses(['a', 'b', 'c'])
  c.upsert(Array.from({ length: clips }, (_, i) => clip(i + 1)))
  c.close()
  return join(dir, 'catalog.sqlite')
}

/**
 * Another process inside a write transaction on the catalog, registered as its holder as a Catalog
 * registers itself: killed there (`kill`), or committing after `holdMs`.
 */
function otherProcess(file: string, mode: 'kill' | 'hold', holdMs = 0): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs'); const sqlite = require(${JSON.stringify(SQLITE)})
    const file = process.argv[1]; const holder = file + '.holders/' + process.pid
    fs.mkdirSync(file + '.holders', { recursive: true }); fs.writeFileSync(holder, '')
    const db = new sqlite.Database(file)
    db.exec('BEGIN IMMEDIATE')
    db.run("INSERT INTO meta(key, value) VALUES ('uncommitted', 'x')")
    if (process.argv[2] === 'kill') process.kill(process.pid, 'SIGKILL')
    console.log('locked')
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); fs.rmSync(holder); process.exit(0) }, Number(process.argv[3]))`
  const child = spawn(process.execPath, ['-e', script, file, mode, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((ok) => {
    if (mode === 'kill') child.on('exit', () => ok(child))
    else child.stdout!.once('data', () => ok(child))
  })
}

describe('catalog locks', () => {
  it('clears the lock a killed process left inside a transaction, with a log line, and rolls its writes back', async () => {
    const file = newDataset('stale', 5)
    const killed = await otherProcess(file, 'kill')
    expect(killed.signalCode).toBe('SIGKILL')
    expect(existsSync(`${file}.lock`)).toBe(true)
    const lines: string[] = []
    const c = new Catalog(file, { waitMs: 0, log: (l) => lines.push(l) }) // no wait allowed: only clearing the stale lock can succeed
    try {
      expect(c.count()).toBe(5)
      expect(c.meta('uncommitted')).toBeNull()
    } finally {
      c.close()
    }
    expect(lines).toEqual([expect.stringMatching(new RegExp(`catalog\\.sqlite\\.lock: stale lock \\(since .*, held by process ${killed.pid}, no longer running\\) cleared`))])
    expect(readdirSync(`${file}.holders`)).toEqual([])
  })

  it('clears a lock folder nobody registered (left by an older build), and says so', () => {
    const file = newDataset('orphan', 2)
    mkdirSync(`${file}.lock`)
    const lines: string[] = []
    const c = new Catalog(file, { waitMs: 0, log: (l) => lines.push(l) })
    expect(c.count()).toBe(2)
    c.close()
    expect(lines).toEqual([expect.stringMatching(/held by no running process\) cleared/)])
  })

  it('names a live holder at once with waitMs 0, and the server waits for it without blocking its event loop', async () => {
    const file = newDataset('busy', 3)
    const holder = await otherProcess(file, 'hold', 1500)
    let err: unknown
    try {
      new Catalog(file, { waitMs: 0 })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CatalogBusyError)
    expect((err as Error).message).toMatch(new RegExp(`in use by process ${holder.pid}; try again`))
    expect(existsSync(`${file}.lock`)).toBe(true) // a live holder's lock is never cleared

    const pool = new DatasetCatalogs(join(root, 'ws'))
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    try {
      expect(await pool.use('busy', (cat) => cat.count())).toBe(3)
    } finally {
      clearInterval(timer)
      pool.close()
    }
    expect(holder.exitCode ?? (await new Promise((ok) => holder.on('exit', ok)))).toBe(0)
    expect(ticks).toBeGreaterThan(20) // the event loop ran all along (a blocking wait would leave it at 0)
  })
})

/** A probe that never opens the file (the class bookkeeping is under test, not ffmpeg). */
const fakeInspect = async (path: string): Promise<InspectedClip> => ({
  probe: { path, duration: 1, formatName: 'mov,mp4', audio: { codec: 'aac', sampleRate: 16000, channels: 1 }, video: { codec: 'h264', width: 64, height: 48, fps: 10 } },
  size: 1,
  mtimeMs: Date.now(),
  hash: `hash-${path}`
})

describe('class lists only grow', () => {
  it('re-importing a folder after adding a class keeps every stored label naming its class', async () => {
    const src = join(root, 'grow')
    for (const f of ['cat/1.mp4', 'dog/2.mp4', 'dog/3.mp4']) {
      mkdirSync(join(src, f, '..'), { recursive: true })
      writeFileSync(join(src, f), f)
    }
    const c = Catalog.open(join(root, 'grow-ds'))
    try {
      await importFolder({ root: src, catalog: c, inspect: fakeInspect })
      const named = (): Record<string, string> => Object.fromEntries(c.list().map((r) => [r.id, r.labels.map((l) => c.classes()[l]).join()]))
      expect(named()).toEqual({ 'cat/1.mp4': 'cat', 'dog/2.mp4': 'dog', 'dog/3.mp4': 'dog' })
      mkdirSync(join(src, 'bird'))
      writeFileSync(join(src, 'bird', '4.mp4'), 'bird') // sorts before cat: a rewritten sorted list would shift every index
      await importFolder({ root: src, catalog: c, inspect: fakeInspect })
      expect(c.classes()).toEqual(['cat', 'dog', 'bird'])
      expect(named()).toEqual({ 'cat/1.mp4': 'cat', 'dog/2.mp4': 'dog', 'dog/3.mp4': 'dog', 'bird/4.mp4': 'bird' })
      // a list that is not an extension of the stored one is refused once clips exist
      expect(() => c.setClasses(['bird', 'cat', 'dog'])).toThrow(/its 3 classes are not the first of the 3 given; its 4 clips' labels would name other classes/)
      expect(c.classes()).toEqual(['cat', 'dog', 'bird'])
    } finally {
      c.close()
    }
  })
})

describe('imports into one dataset', () => {
  const ctx = (lines: string[]): JobContext => ({ signal: new AbortController().signal, progress: () => undefined, metrics: () => undefined, log: (l) => lines.push(l) })

  it('are serialised: two at once both land, each clip keeping its own class', async () => {
    const media = createMediaDir('equiav-import-lock-')
    try {
      const made = await media.makeAll([0, 1, 2, 3].map((i) => ({ name: `${i}.mp4`, duration: 0.5, audio: { frequencies: [300 + 100 * i] } })))
      for (const [i, f] of made.entries()) {
        const dir = join(media.dir, i < 2 ? 'x/xa' : 'y/yb')
        mkdirSync(dir, { recursive: true })
        renameSync(f, join(dir, `${i}.mp4`))
      }
      const ws = join(root, 'ws2')
      const lines: string[] = []
      const both = await Promise.all(
        ['x', 'y'].map((d) => importDataset(ws, 'both', { from: join(media.dir, d) }, ctx(lines), (c) => c.count()))
      )
      expect(both.sort()).toEqual([2, 4])
      expect(lines).toEqual([expect.stringMatching(new RegExp(`import\\.lock: waiting for the import of process ${process.pid} \\(since .*\\) to finish`))])
      const pool = new DatasetCatalogs(ws)
      const labelled = await pool.use('both', (c) => c.list().map((r) => `${r.id.split('/')[0]}=${c.classes()[r.labels[0]]}`))
      pool.close()
      expect(labelled.sort()).toEqual(['xa=xa', 'xa=xa', 'yb=yb', 'yb=yb'])
      expect(existsSync(join(ws, 'datasets', 'both', 'import.lock'))).toBe(false)
    } finally {
      media.cleanup()
    }
  }, 60_000)

  it('clears the import lock of a dead process, with a log line', async () => {
    const ws = join(root, 'ws3')
    const dir = join(ws, 'datasets', 'relock')
    mkdirSync(dir, { recursive: true })
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    const deadPid = Number(gone.stdout.trim())
    writeFileSync(join(dir, 'import.lock'), JSON.stringify({ pid: deadPid, since: '2026-01-01T00:00:00.000Z' }))
    mkdirSync(join(root, 'empty-src'), { recursive: true })
    const lines: string[] = []
    expect(await importDataset(ws, 'relock', { from: join(root, 'empty-src') }, ctx(lines), (c) => c.count())).toBe(0)
    expect(lines).toEqual([expect.stringMatching(new RegExp(`import\\.lock: import lock of process ${deadPid} \\(since 2026-01-01T00:00:00\\.000Z\\), no longer running, cleared`))])
  })

  it('a failed import leaves no new empty dataset behind, and never removes an existing one', async () => {
    const ws = join(root, 'ws4')
    const bad = join(root, 'bad.csv')
    writeFileSync(bad, 'not,a,manifest\n')
    writeFileSync(join(root, 'labels.csv'), 'index,mid,display_name\n0,/m/0,a\n')
    const spec = { format: 'audioset-csv' as const, from: bad, labels: join(root, 'labels.csv') }
    for (let i = 0; i < 3; i++) {
      await expect(importDataset(ws, 'failed', spec, ctx([]), () => 0)).rejects.toThrow(/bad\.csv:1: expected 4 columns/)
    }
    expect(existsSync(join(ws, 'datasets', 'failed'))).toBe(false)
    expect(await listDatasets(ws)).toEqual([])
    // an existing dataset with clips stays as it was
    const c = Catalog.open(join(ws, 'datasets', 'kept'))
    c.upsert([clip(1)])
    c.close()
    await expect(importDataset(ws, 'kept', spec, ctx([]), () => 0)).rejects.toThrow(/expected 4 columns/)
    expect(await listDatasets(ws)).toEqual(['kept'])
  })
})

describe('the server\'s catalogs', () => {
  it('keyset pages equal OFFSET pages at any offset, before and after edits; sliced counts equal plain counts', async () => {
    newDataset('paged', 1000)
    const pool = new DatasetCatalogs(join(root, 'ws'), 30_000, 97)
    const plain = new Catalog(join(root, 'ws', 'datasets', 'paged', 'catalog.sqlite'))
    try {
      const filter = fc.record({ status: fc.constantFrom('ok', 'quarantined', 'missing'), split: fc.constantFrom('train', 'test'), label: fc.integer({ min: 0, max: 2 }), excluded: fc.boolean(), minDuration: fc.integer({ min: 0, max: 8 }) }, { requiredKeys: [] })
      await fc.assert(
        fc.asyncProperty(filter, fc.array(fc.integer({ min: 0, max: 1100 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 300 }), fc.option(fc.integer({ min: 1, max: 1000 })), async (f, offsets, limit, edited) => {
          if (edited !== null) await pool.use('paged', (c) => c.edit(`c${edited}.mp4`, { excluded: edited % 2 === 0 }))
          for (const offset of offsets) {
            const got = (await pool.page('paged', f, offset, limit)).map((r) => r.id)
            expect(got).toEqual(plain.list({ ...f, offset, limit }).map((r) => r.id))
          }
          expect(await pool.count('paged', f)).toBe(plain.count(f))
        }),
        { numRuns: 60 }
      )
      const { excluded, ...counts } = await pool.counts('paged')
      expect(counts).toEqual(plain.counts())
      expect(excluded).toBe(plain.count({ excluded: true }))
    } finally {
      plain.close()
      pool.close()
    }
  })

  it('keeps one catalog open per dataset, and opens it again when the dataset is replaced', async () => {
    newDataset('swap', 2)
    const pool = new DatasetCatalogs(join(root, 'ws'))
    try {
      const first = await pool.use('swap', (c) => c)
      expect(await pool.use('swap', (c) => c)).toBe(first)
      rmSync(join(root, 'ws', 'datasets', 'swap'), { recursive: true })
      await expect(pool.use('swap', (c) => c.count())).rejects.toThrow(/no dataset "swap"/)
      newDataset('swap', 7)
      expect(await pool.use('swap', (c) => c.count())).toBe(7)
      // counts and page indexes are kept until the catalog changes, by this connection or another one
      expect(await pool.count('swap', { status: 'ok' })).toBe(7)
      const other = new Catalog(join(root, 'ws', 'datasets', 'swap', 'catalog.sqlite'))
      other.upsert([clip(20), clip(21)])
      other.close()
      expect(await pool.count('swap', { status: 'ok' })).toBe(9)
      expect((await pool.counts('swap')).total).toBe(9)
      expect((await pool.counts('swap')).excluded).toBe(2) // c5 and c20
      await pool.use('swap', (c) => c.edit('c21.mp4', { excluded: true }))
      expect((await pool.counts('swap')).excluded).toBe(3)
    } finally {
      pool.close()
    }
  })
})
