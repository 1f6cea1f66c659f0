/**
 * A dataset's catalog: one embedded SQLite file (node-sqlite3-wasm: pure wasm, so the same build runs in
 * Node and in Electron's main process) at <workspace>/datasets/<name>/catalog.sqlite.
 * A clip is a media file with its streams, labels (class indices), split and status; unusable files stay
 * in the catalog as `quarantined` with a reason, so an import reports every file it saw. Clips listed by a
 * manifest (AudioSet, VGGSound, CAV-MAE) whose media is not on disk are `missing` ("not downloaded"):
 * kept apart from `quarantined` so that a 2M-row catalog without media does not read as 2M broken files.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sqlite from 'node-sqlite3-wasm'
import type { QuarantineReason } from './media-types'

export type Split = 'train' | 'val' | 'test'
export type ClipStatus = 'ok' | 'quarantined' | 'missing'

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
  /** listed by a manifest, media not downloaded */
  missing: number
  byReason: Partial<Record<QuarantineReason, number>>
  bySplit: Partial<Record<Split, number>>
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (idx INTEGER PRIMARY KEY, name TEXT NOT NULL, mid TEXT);
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

/** Insert order of the clip columns (ClipRecord field order). */
const COLUMNS = ['id', 'path', 'size', 'mtime_ms', 'duration', 'audio', 'video', 'labels', 'split', 'status', 'reason', 'detail', 'hash', 'excluded']
const UPDATABLE = COLUMNS.filter((c) => c !== 'id')

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

function selectClips(f: ClipFilter): { sql: string; args: (string | number)[] } {
  const { sql, args } = whereOf(f)
  return { sql: `SELECT * FROM clips ${sql} ORDER BY seq LIMIT ? OFFSET ?`, args: [...args, f.limit ?? -1, f.offset ?? 0] }
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
    // catalogs written before classes could carry an ontology id
    const classColumns = (this.db.all('PRAGMA table_info(classes)') as Row[]).map((r) => String(r.name))
    if (!classColumns.includes('mid')) this.db.exec('ALTER TABLE classes ADD COLUMN mid TEXT')
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

  /** Class names by index, with their ontology ids (AudioSet mids) where the source has them. */
  setClasses(names: string[], mids?: (string | null)[]): void {
    if (mids && mids.length !== names.length) throw new Error(`setClasses: ${names.length} names but ${mids.length} mids`)
    this.transaction(() => {
      this.db.run('DELETE FROM classes')
      const st = this.db.prepare('INSERT INTO classes(idx, name, mid) VALUES (?, ?, ?)')
      try {
        names.forEach((n, i) => st.run([i, n, mids?.[i] ?? null]))
      } finally {
        st.finalize()
      }
    })
  }

  classes(): string[] {
    return (this.db.all('SELECT name FROM classes ORDER BY idx') as Row[]).map((r) => String(r.name))
  }

  /** Ontology id per class index (null where the source had none, e.g. folder names). */
  classMids(): (string | null)[] {
    return (this.db.all('SELECT mid FROM classes ORDER BY idx') as Row[]).map((r) => (r.mid === null ? null : String(r.mid)))
  }

  meta(key: string): string | null {
    const row = this.db.get('SELECT value FROM meta WHERE key = ?', [key]) as Row | null
    return row ? String(row.value) : null
  }

  /** Insert or replace clips in one transaction: a killed import leaves whole batches or nothing. */
  upsert(clips: ClipRecord[]): void {
    this.write(clips, `DO UPDATE SET ${UPDATABLE.map((c) => `${c} = excluded.${c}`).join(', ')}`)
  }

  /**
   * Insert clips, and for clips already present refresh only what the source knows about the file
   * (path, streams, status, hash): labels, split and exclusion are the user's to edit and are kept.
   */
  upsertKeepingEdits(clips: ClipRecord[]): void {
    const editable = new Set(['labels', 'split', 'excluded'])
    this.write(clips, `DO UPDATE SET ${UPDATABLE.filter((c) => !editable.has(c)).map((c) => `${c} = excluded.${c}`).join(', ')}`)
  }

  /** Insert clips whose id is not in the catalog yet, in one transaction; returns how many were new. */
  insertNew(clips: ClipRecord[]): number {
    return this.write(clips, 'DO NOTHING')
  }

  private write(clips: ClipRecord[], onConflict: string): number {
    let changed = 0
    this.transaction(() => {
      const st = this.db.prepare(`INSERT INTO clips(${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(id) ${onConflict}`)
      try {
        for (const c of clips) {
          changed += st.run([c.id, c.path, c.size, c.mtimeMs, c.duration, c.audio, c.video, JSON.stringify(c.labels), c.split, c.status, c.reason, c.detail, c.hash, c.excluded ? 1 : 0]).changes
        }
      } finally {
        st.finalize()
      }
    })
    return changed
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
    const { sql, args } = selectClips(f)
    return (this.db.all(sql, args) as Row[]).map(toRecord)
  }

  /** How many clips match a filter (its limit and offset aside). */
  count(f: ClipFilter = {}): number {
    const { sql, args } = whereOf(f)
    return Number((this.db.get(`SELECT COUNT(*) AS n FROM clips ${sql}`, args) as Row).n)
  }

  /** The same clips one at a time, for exports of catalogs too large to hold as records at once. */
  *each(f: ClipFilter = {}): Generator<ClipRecord> {
    const { sql, args } = selectClips(f)
    const st = this.db.prepare(sql)
    try {
      for (const r of st.iterate(args) as Iterable<Row>) yield toRecord(r)
    } finally {
      st.finalize()
    }
  }

  counts(): CatalogCounts {
    const out: CatalogCounts = { total: 0, ok: 0, quarantined: 0, missing: 0, byReason: {}, bySplit: {} }
    for (const r of this.db.all('SELECT status, reason, COUNT(*) AS n FROM clips GROUP BY status, reason') as Row[]) {
      const n = Number(r.n)
      out.total += n
      if (r.status === 'ok') out.ok += n
      else if (r.status === 'missing') out.missing += n
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

  /** Every clip id, so a resumed manifest import skips (and does not probe again) rows already present. */
  ids(): Set<string> {
    const out = new Set<string>()
    const st = this.db.prepare('SELECT id FROM clips')
    try {
      for (const r of st.iterate() as Iterable<Row>) out.add(String(r.id))
    } finally {
      st.finalize()
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
