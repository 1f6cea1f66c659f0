/**
 * A dataset's catalog: one embedded SQLite file (node-sqlite3-wasm: pure wasm, so the same build runs in
 * Node and in Electron's main process) at <workspace>/datasets/<name>/catalog.sqlite.
 * A clip is a media file with its streams, labels (class indices), split and status; unusable files stay
 * in the catalog as `quarantined` with a reason, so an import reports every file it saw.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sqlite from 'node-sqlite3-wasm'
import type { QuarantineReason } from './media-types'

export type Split = 'train' | 'val' | 'test'
export type ClipStatus = 'ok' | 'quarantined'

export interface ClipRecord {
  id: string
  /** absolute path of the media file */
  path: string
  size: number
  mtimeMs: number
  duration: number | null
  audio: string | null
  video: string | null
  labels: number[]
  split: Split | null
  status: ClipStatus
  reason: QuarantineReason | null
  detail: string | null
  hash: string | null
  /** left out of preparation and training by the user (kept in the catalog) */
  excluded: boolean
}

export interface ClipFilter {
  status?: ClipStatus
  split?: Split
  label?: number
  excluded?: boolean
  /** seconds, inclusive; clips without a duration (quarantined) never match a duration bound */
  minDuration?: number
  maxDuration?: number
  limit?: number
  offset?: number
}

export interface CatalogCounts {
  total: number
  ok: number
  quarantined: number
  byReason: Partial<Record<QuarantineReason, number>>
  bySplit: Partial<Record<Split, number>>
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clips (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  duration REAL,
  audio TEXT,
  video TEXT,
  labels TEXT NOT NULL,
  split TEXT,
  status TEXT NOT NULL,
  reason TEXT,
  detail TEXT,
  hash TEXT,
  excluded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS clips_status ON clips(status, seq);
CREATE INDEX IF NOT EXISTS clips_split ON clips(split, seq);
CREATE INDEX IF NOT EXISTS clips_hash ON clips(hash);
`

type Row = Record<string, number | bigint | string | Uint8Array | null>

function toRecord(r: Row): ClipRecord {
  return {
    id: String(r.id),
    path: String(r.path),
    size: Number(r.size),
    mtimeMs: Number(r.mtime_ms),
    duration: r.duration === null ? null : Number(r.duration),
    audio: r.audio === null ? null : String(r.audio),
    video: r.video === null ? null : String(r.video),
    labels: JSON.parse(String(r.labels)) as number[],
    split: (r.split as Split | null) ?? null,
    status: r.status as ClipStatus,
    reason: (r.reason as QuarantineReason | null) ?? null,
    detail: r.detail === null ? null : String(r.detail),
    hash: r.hash === null ? null : String(r.hash),
    excluded: Number(r.excluded) === 1
  }
}

function whereOf(f: ClipFilter): { sql: string; args: (string | number)[] } {
  const where: string[] = []
  const args: (string | number)[] = []
  const add = (clause: string, value: string | number): void => {
    where.push(clause)
    args.push(value)
  }
  if (f.status) add('status = ?', f.status)
  if (f.split) add('split = ?', f.split)
  if (f.excluded !== undefined) add('excluded = ?', f.excluded ? 1 : 0)
  if (f.label !== undefined) add('EXISTS (SELECT 1 FROM json_each(clips.labels) WHERE value = ?)', f.label)
  if (f.minDuration !== undefined) add('duration >= ?', f.minDuration)
  if (f.maxDuration !== undefined) add('duration <= ?', f.maxDuration)
  return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', args }
}

export class Catalog {
  private readonly db: sqlite.Database

  constructor(readonly file: string) {
    this.db = new sqlite.Database(file)
    // rollback journal (WAL needs shared memory, which the wasm VFS lacks); wait for a writer rather than fail
    this.db.exec('PRAGMA busy_timeout = 10000;')
    this.db.exec(SCHEMA)
    // catalogs written before clips could be excluded
    const columns = (this.db.all('PRAGMA table_info(clips)') as Row[]).map((r) => String(r.name))
    if (!columns.includes('excluded')) this.db.exec('ALTER TABLE clips ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0')
  }

  static open(datasetDir: string): Catalog {
    mkdirSync(datasetDir, { recursive: true })
    return new Catalog(join(datasetDir, 'catalog.sqlite'))
  }

  close(): void {
    this.db.close()
  }

  setMeta(key: string, value: string): void {
    this.db.run('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value])
  }

  meta(key: string): string | null {
    const row = this.db.get('SELECT value FROM meta WHERE key = ?', [key]) as Row | null
    return row ? String(row.value) : null
  }

  setClasses(names: string[]): void {
    this.transaction(() => {
      this.db.run('DELETE FROM classes')
      const st = this.db.prepare('INSERT INTO classes(idx, name) VALUES (?, ?)')
      try {
        names.forEach((n, i) => st.run([i, n]))
      } finally {
        st.finalize()
      }
    })
  }

  classes(): string[] {
    return (this.db.all('SELECT name FROM classes ORDER BY idx') as Row[]).map((r) => String(r.name))
  }

  /** Insert or replace clips in one transaction: a killed import leaves whole batches or nothing. */
  upsert(clips: ClipRecord[]): void {
    this.transaction(() => {
      const st = this.db.prepare(
        `INSERT INTO clips(id, path, size, mtime_ms, duration, audio, video, labels, split, status, reason, detail, hash, excluded)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET path = excluded.path, size = excluded.size, mtime_ms = excluded.mtime_ms,
           duration = excluded.duration, audio = excluded.audio, video = excluded.video, labels = excluded.labels,
           split = excluded.split, status = excluded.status, reason = excluded.reason, detail = excluded.detail, hash = excluded.hash,
           excluded = excluded.excluded`
      )
      try {
        for (const c of clips) {
          st.run([c.id, c.path, c.size, c.mtimeMs, c.duration, c.audio, c.video, JSON.stringify(c.labels), c.split, c.status, c.reason, c.detail, c.hash, c.excluded ? 1 : 0])
        }
      } finally {
        st.finalize()
      }
    })
  }

  /** The user's edits: labels (primary first), split, or exclusion. Errors name the clip. */
  edit(id: string, change: { labels?: number[]; split?: Split | null; excluded?: boolean }): ClipRecord {
    const clip = this.get(id)
    if (!clip) throw new Error(`${this.file}: no clip "${id}"`)
    const classes = this.classes().length
    const bad = change.labels?.find((l) => !Number.isInteger(l) || l < 0 || (classes > 0 && l >= classes))
    if (bad !== undefined) throw new Error(`clip "${id}": label ${bad} is not a class index (0–${classes - 1})`)
    const updated = { ...clip, ...change }
    this.upsert([updated])
    return updated
  }

  get(id: string): ClipRecord | null {
    const row = this.db.get('SELECT * FROM clips WHERE id = ?', [id]) as Row | null
    return row ? toRecord(row) : null
  }

  /** Clips in import order; filters use the (status|split, seq) indexes so paging stays cheap. */
  list(f: ClipFilter = {}): ClipRecord[] {
    const { sql, args } = whereOf(f)
    return (this.db.all(`SELECT * FROM clips ${sql} ORDER BY seq LIMIT ? OFFSET ?`, [...args, f.limit ?? -1, f.offset ?? 0]) as Row[]).map(toRecord)
  }

  /** How many clips match a filter (its limit and offset aside). */
  count(f: ClipFilter = {}): number {
    const { sql, args } = whereOf(f)
    return Number((this.db.get(`SELECT COUNT(*) AS n FROM clips ${sql}`, args) as Row).n)
  }

  counts(): CatalogCounts {
    const out: CatalogCounts = { total: 0, ok: 0, quarantined: 0, byReason: {}, bySplit: {} }
    for (const r of this.db.all('SELECT status, reason, COUNT(*) AS n FROM clips GROUP BY status, reason') as Row[]) {
      const n = Number(r.n)
      out.total += n
      if (r.status === 'ok') out.ok += n
      else {
        out.quarantined += n
        out.byReason[r.reason as QuarantineReason] = n
      }
    }
    for (const r of this.db.all("SELECT split, COUNT(*) AS n FROM clips WHERE status = 'ok' AND split IS NOT NULL GROUP BY split") as Row[]) {
      out.bySplit[r.split as Split] = Number(r.n)
    }
    return out
  }

  /** path → (size, mtime) of every clip, so a re-run import skips files it has already seen unchanged. */
  seenFiles(): Map<string, { size: number; mtimeMs: number }> {
    const out = new Map<string, { size: number; mtimeMs: number }>()
    for (const r of this.db.all('SELECT path, size, mtime_ms FROM clips') as Row[]) {
      out.set(String(r.path), { size: Number(r.size), mtimeMs: Number(r.mtime_ms) })
    }
    return out
  }

  private transaction(fn: () => void): void {
    this.db.exec('BEGIN')
    try {
      fn()
      this.db.exec('COMMIT')
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }
}
