/**
 * A dataset's catalog: one embedded SQLite file (node-sqlite3-wasm: pure wasm, so the same build runs in
 * Node and in Electron's main process) at <workspace>/datasets/<name>/catalog.sqlite.
 * A clip is a media file with its streams, labels (class indices), split and status; unusable files stay
 * in the catalog as `quarantined` with a reason, so an import reports every file it saw. Clips listed by a
 * manifest (AudioSet, VGGSound, CAV-MAE) whose media is not on disk are `missing` ("not downloaded"):
 * kept apart from `quarantined` so that a 2M-row catalog without media does not read as 2M broken files.
 * Class lists only grow, so a stored label index always names the class it named when it was written.
 * Another process's lock is waited for by sleeping (or, with `waitMs: 0`, reported at once so the server
 * can retry without blocking its event loop); a lock left by a dead process is cleared (catalog-lock.ts).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sqlite from 'node-sqlite3-wasm'
import { clearStaleLock, otherHolders, registerHolder, unregisterHolder } from './catalog-lock'
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
  /** the file's real path (symlinks resolved) when it was probed; media is served only while it still resolves there */
  realPath?: string | null
  /** the recording the clip was cut from (`dataset import --group-by`): every clip of a group is in one split */
  group?: string | null
  /** position in import order (set when read from the catalog): the key of keyset paging */
  seq?: number
}

/** A user's edit of clips: labels (primary first) or only the primary label, split, exclusion. */
export interface ClipEdit {
  labels?: number[]
  primary?: number
  split?: Split | null
  excluded?: boolean
}

/** What the clip list sorts by: import order, or a column with import order breaking ties. */
export const SORT_COLUMNS = ['import', 'id', 'label', 'split', 'status', 'duration'] as const
export type SortColumn = (typeof SORT_COLUMNS)[number]
export interface ClipSort {
  by: SortColumn
  desc?: boolean
}
/** A clip's place in a sort: its sort key, then its seq. A keyset page starts after one. */
export type SortCursor = readonly [key: string | number, seq: number]
export const IMPORT_ORDER: ClipSort = { by: 'import' }

/**
 * Each sort's key in SQL, never NULL (a row value holding a NULL compares as unknown, which would drop
 * clips from keyset pages): the primary label's class index, a missing split as '', a missing duration as -1.
 */
const SORT_KEYS: Record<SortColumn, string> = {
  import: 'seq',
  id: 'id',
  label: "COALESCE(json_extract(labels, '$[0]'), -1)",
  split: "COALESCE(split, '')",
  status: 'status',
  duration: 'COALESCE(duration, -1)'
}
/** The sorts whose key no schema index serves: each gets an expression index when first used (imports do not pay for it before). */
const LAZY_SORT_INDEXES: Partial<Record<SortColumn, string>> = {
  label: `CREATE INDEX IF NOT EXISTS clips_by_label ON clips(${SORT_KEYS.label}, seq)`,
  split: `CREATE INDEX IF NOT EXISTS clips_by_split ON clips(${SORT_KEYS.split}, seq)`,
  duration: `CREATE INDEX IF NOT EXISTS clips_by_duration ON clips(${SORT_KEYS.duration}, seq)`
}

/**
 * The clips after a cursor in a sort, as clauses each one index seek, whose results in turn are those clips
 * in sort order: the rest of the cursor's tie (its key, a later seq), then the keys after it. (One row-value
 * bound `(key, seq) > (?, ?)` holds the same clips, but SQLite finds them by scanning the tie from its
 * start: a page deep in a status sort of 2M clips would read up to 2M index entries.)
 */
function afterParts(sort: ClipSort, after: SortCursor | undefined): Clause[] {
  const gt = sort.desc ? '<' : '>'
  if (!after) return []
  if (sort.by === 'import') return [{ sql: `seq ${gt} ?`, args: [after[1]] }]
  const k = SORT_KEYS[sort.by]
  return [
    { sql: `${k} = ? AND seq ${gt} ?`, args: [after[0], after[1]] },
    { sql: `${k} ${gt} ?`, args: [after[0]] }
  ]
}

const orderBy = (sort: ClipSort): string => {
  const dir = sort.desc ? 'DESC' : 'ASC'
  return sort.by === 'import' ? `ORDER BY seq ${dir}` : `ORDER BY ${SORT_KEYS[sort.by]} ${dir}, seq ${dir}`
}

/** Orders two cursors of one sort as SQLite does: numbers by value, text by its UTF-8 bytes (BINARY collation). */
export function compareCursors(sort: ClipSort, a: SortCursor, b: SortCursor): number {
  const key = typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : Buffer.compare(Buffer.from(String(a[0])), Buffer.from(String(b[0])))
  const order = key !== 0 ? Math.sign(key) : Math.sign(a[1] - b[1])
  return sort.desc ? -order : order
}

export interface ClipFilter {
  /** a case-insensitive (ASCII) substring of the clip id or of one of its labels' class names */
  search?: string
  status?: ClipStatus
  split?: Split
  label?: number
  excluded?: boolean
  /** seconds, inclusive; clips without a duration (quarantined) never match a duration bound */
  minDuration?: number
  maxDuration?: number
  limit?: number
  offset?: number
  /** the order of list() (import order when absent) */
  sort?: ClipSort
  /** keyset paging: only clips after this place in the sort */
  after?: SortCursor
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
  excluded INTEGER NOT NULL DEFAULT 0,
  real_path TEXT,
  source_group TEXT
);
CREATE INDEX IF NOT EXISTS clips_status ON clips(status, seq);
CREATE INDEX IF NOT EXISTS clips_split ON clips(split, seq);
CREATE INDEX IF NOT EXISTS clips_hash ON clips(hash);
`

/** Insert order of the clip columns (ClipRecord field order). */
const COLUMNS = ['id', 'path', 'size', 'mtime_ms', 'duration', 'audio', 'video', 'labels', 'split', 'status', 'reason', 'detail', 'hash', 'excluded', 'real_path', 'source_group']
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
    excluded: Number(r.excluded) === 1,
    realPath: r.real_path === null ? null : String(r.real_path),
    group: r.source_group === null || r.source_group === undefined ? null : String(r.source_group),
    seq: Number(r.seq)
  }
}

const toCursor = (r: Row): SortCursor => [typeof r.k === 'string' ? r.k : Number(r.k), Number(r.seq)]

interface Clause {
  sql: string
  args: (string | number)[]
}

/** The WHERE of a filter, and of any further clauses (ANDed). */
function whereOf(f: ClipFilter, extra: Clause[] = []): Clause {
  const where: string[] = []
  const args: (string | number)[] = []
  const add = (clause: string, value: string | number): void => {
    where.push(clause)
    args.push(value)
  }
  if (f.search) {
    where.push('(instr(lower(id), lower(?)) > 0 OR EXISTS (SELECT 1 FROM json_each(clips.labels) AS l JOIN classes ON classes.idx = l.value WHERE instr(lower(classes.name), lower(?)) > 0))')
    args.push(f.search, f.search)
  }
  if (f.status) add('status = ?', f.status)
  if (f.split) add('split = ?', f.split)
  if (f.excluded !== undefined) add('excluded = ?', f.excluded ? 1 : 0)
  if (f.label !== undefined) add('EXISTS (SELECT 1 FROM json_each(clips.labels) WHERE value = ?)', f.label)
  if (f.minDuration !== undefined) add('duration >= ?', f.minDuration)
  if (f.maxDuration !== undefined) add('duration <= ?', f.maxDuration)
  for (const c of extra) {
    where.push(c.sql)
    args.push(...c.args)
  }
  return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', args }
}

/** The clips matching a filter after `part` (a clause of afterParts, or none), in the sort's order. */
function selectClips(f: ClipFilter, sort: ClipSort, part: Clause | null, columns: Clause): Clause {
  const { sql, args } = whereOf(f, part ? [part] : [])
  return { sql: `SELECT ${columns.sql} FROM clips ${sql} ${orderBy(sort)} LIMIT ? OFFSET ?`, args: [...columns.args, ...args] }
}

const ALL_COLUMNS: Clause = { sql: '*', args: [] }

/** Another process holds the catalog's lock (and is alive): try again later. */
export class CatalogBusyError extends Error {
  constructor(
    readonly file: string,
    readonly holders: number[]
  ) {
    super(`${file}: in use by ${holders.length ? `process ${holders.join(', ')}` : 'another process'}; try again when it is done`)
  }
}

export interface CatalogOptions {
  /** how long a call waits for another process's lock, sleeping between tries (default 10 s); 0: throw CatalogBusyError at once */
  waitMs?: number
  /** where the line about a cleared stale lock goes (default stderr) */
  log?: (line: string) => void
}

const isBusy = (err: unknown): boolean => err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message)

/** Blocks this thread without using the CPU (a catalog call is synchronous; its caller chose to wait). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export class Catalog {
  private readonly db: sqlite.Database
  private readonly waitMs: number
  private readonly log: (line: string) => void
  /** the sorts whose lazy index this connection has made sure of */
  private readonly indexed = new Set<SortColumn>()

  constructor(
    readonly file: string,
    o: CatalogOptions = {}
  ) {
    this.waitMs = o.waitMs ?? 10_000
    this.log = o.log ?? ((line) => void process.stderr.write(`${line}\n`))
    registerHolder(file)
    try {
      this.db = new sqlite.Database(file)
    } catch (err) {
      unregisterHolder(file)
      throw err
    }
    try {
      // rollback journal (WAL needs shared memory, which the wasm VFS lacks); SQLite's own busy handler would spin
      this.db.exec('PRAGMA busy_timeout = 0;')
      this.locked(() => this.migrate())
    } catch (err) {
      this.close()
      throw err
    }
  }

  private migrate(): void {
    this.db.exec(SCHEMA)
    const columns = (this.db.all('PRAGMA table_info(clips)') as Row[]).map((r) => String(r.name))
    // catalogs written before clips could be excluded, before real paths were kept, and before clips had a group
    if (!columns.includes('excluded')) this.db.exec('ALTER TABLE clips ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0')
    if (!columns.includes('real_path')) this.db.exec('ALTER TABLE clips ADD COLUMN real_path TEXT')
    if (!columns.includes('source_group')) this.db.exec('ALTER TABLE clips ADD COLUMN source_group TEXT')
    // catalogs written before classes could carry an ontology id
    const classColumns = (this.db.all('PRAGMA table_info(classes)') as Row[]).map((r) => String(r.name))
    if (!classColumns.includes('mid')) this.db.exec('ALTER TABLE classes ADD COLUMN mid TEXT')
  }

  static open(datasetDir: string, o: CatalogOptions = {}): Catalog {
    mkdirSync(datasetDir, { recursive: true })
    return new Catalog(join(datasetDir, 'catalog.sqlite'), o)
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
    unregisterHolder(this.file)
  }

  /**
   * Runs one call against the database. When another process holds the lock: a stale lock (its holder is
   * dead) is cleared with a log line and the call retried; a live holder is waited for, sleeping, up to
   * waitMs, then CatalogBusyError names it.
   */
  private locked<T>(fn: () => T): T {
    const deadline = Date.now() + this.waitMs
    let cleared = false
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      try {
        return fn()
      } catch (err) {
        if (!isBusy(err)) throw err
        const line = cleared ? null : clearStaleLock(this.file)
        if (line) {
          cleared = true
          this.log(line)
          continue
        }
        const left = deadline - Date.now()
        if (left <= 0) throw new CatalogBusyError(this.file, otherHolders(this.file).alive)
        sleepSync(Math.min(delay, left))
      }
    }
  }

  setMeta(key: string, value: string): void {
    this.locked(() => this.db.run('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]))
  }

  /**
   * Class names by index, with their ontology ids (AudioSet mids) where the source has them. The list only
   * grows: the catalog's classes must be the first of `names` (new ones are appended), or the catalog must
   * hold no clips yet, since stored label indices would otherwise name other classes.
   */
  setClasses(names: string[], mids?: (string | null)[]): void {
    if (mids && mids.length !== names.length) throw new Error(`setClasses: ${names.length} names but ${mids.length} mids`)
    this.transaction(() => {
      const existing = (this.db.all('SELECT name FROM classes ORDER BY idx') as Row[]).map((r) => String(r.name))
      const extends_ = existing.length <= names.length && existing.every((n, i) => n === names[i])
      if (!extends_) {
        const clips = Number((this.db.get('SELECT COUNT(*) AS n FROM clips') as Row).n)
        if (clips > 0) throw new Error(`${this.file}: its ${existing.length} classes are not the first of the ${names.length} given; its ${clips} clips' labels would name other classes`)
        this.db.run('DELETE FROM classes')
      }
      const st = this.db.prepare('INSERT INTO classes(idx, name, mid) VALUES (?, ?, ?)')
      try {
        for (let i = extends_ ? existing.length : 0; i < names.length; i++) st.run([i, names[i], mids?.[i] ?? null])
      } finally {
        st.finalize()
      }
    })
  }

  /** Appends the classes not in the catalog yet (in the order given); existing ones keep their index. */
  addClasses(names: string[]): void {
    const existing = this.classes()
    const known = new Set(existing)
    const added = [...new Set(names)].filter((n) => !known.has(n))
    if (added.length) this.setClasses([...existing, ...added], [...this.classMids(), ...added.map(() => null)])
  }

  classes(): string[] {
    return this.locked(() => (this.db.all('SELECT name FROM classes ORDER BY idx') as Row[]).map((r) => String(r.name)))
  }

  /** Ontology id per class index (null where the source had none, e.g. folder names). */
  classMids(): (string | null)[] {
    return this.locked(() => (this.db.all('SELECT mid FROM classes ORDER BY idx') as Row[]).map((r) => (r.mid === null ? null : String(r.mid))))
  }

  meta(key: string): string | null {
    const row = this.locked(() => this.db.get('SELECT value FROM meta WHERE key = ?', [key]) as Row | null)
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
          changed += st.run([c.id, c.path, c.size, c.mtimeMs, c.duration, c.audio, c.video, JSON.stringify(c.labels), c.split, c.status, c.reason, c.detail, c.hash, c.excluded ? 1 : 0, c.realPath ?? null, c.group ?? null]).changes
        }
      } finally {
        st.finalize()
      }
    })
    return changed
  }

  /** The user's edits to one clip (see editMany). */
  edit(id: string, change: ClipEdit): ClipRecord {
    return this.editMany([id], change)[0]
  }

  /**
   * The user's edits to several clips, all or none: labels (primary first), or `primary` alone, which
   * replaces each clip's first label and keeps the others; split; exclusion. Errors name the clip.
   */
  editMany(ids: string[], change: ClipEdit): ClipRecord[] {
    const classes = this.classes().length
    const { primary, ...rest } = change
    const set = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
    const updated = ids.map((id) => {
      const clip = this.get(id)
      if (!clip) throw new Error(`${this.file}: no clip "${id}"`)
      const labels = primary === undefined ? change.labels : [primary, ...clip.labels.slice(1).filter((l) => l !== primary)]
      const bad = labels?.find((l) => !Number.isInteger(l) || l < 0 || (classes > 0 && l >= classes))
      if (bad !== undefined) throw new Error(`clip "${id}": label ${bad} is not a class index (0–${classes - 1})`)
      return { ...clip, ...set, ...(labels ? { labels } : {}) }
    })
    this.upsert(updated)
    return updated
  }

  get(id: string): ClipRecord | null {
    const row = this.locked(() => this.db.get('SELECT * FROM clips WHERE id = ?', [id]) as Row | null)
    return row ? toRecord(row) : null
  }

  /** Clips in import order or f.sort's; filters and sorts use indexes, and `after` pages by key instead of OFFSET. */
  list(f: ClipFilter = {}): ClipRecord[] {
    const { sort = IMPORT_ORDER, after, limit = -1, offset = 0, ...filter } = f
    return this.afterCursor(filter, sort, after, ALL_COLUMNS, limit, offset).map(toRecord)
  }

  /**
   * Rows of the clips matching a filter after a cursor in a sort (from the start without one), `limit` of
   * them (-1: all) after skipping `offset`. One part (no cursor, or import order): LIMIT and OFFSET in SQL;
   * two (the rest of a tie, then the keys after it): each read in turn until enough are found, the offset
   * (within a stretch of a page index: under 100) skipped here.
   */
  private afterCursor(f: ClipFilter, sort: ClipSort, after: SortCursor | undefined, columns: Clause, limit: number, offset: number): Row[] {
    this.sortIndex(sort)
    const read = (part: Clause | null, n: number, skip: number): Row[] => {
      const { sql, args } = selectClips(f, sort, part, columns)
      return this.locked(() => this.db.all(sql, [...args, n, skip]) as Row[])
    }
    const parts = after ? afterParts(sort, after) : [null]
    if (parts.length === 1) return read(parts[0], limit, offset)
    const want = limit < 0 ? Infinity : offset + limit
    const rows: Row[] = []
    for (const part of parts) if (rows.length < want) rows.push(...read(part, want === Infinity ? -1 : want - rows.length, 0))
    return rows.slice(offset, limit < 0 ? undefined : offset + limit)
  }

  /** The expression index a sort's key needs, made once (a catalog of 2M clips takes a few seconds the first time). */
  private sortIndex(sort: ClipSort): void {
    const create = LAZY_SORT_INDEXES[sort.by]
    if (!create || this.indexed.has(sort.by)) return
    this.locked(() => this.db.exec(create))
    this.indexed.add(sort.by)
  }

  /** A clip's cursor in a sort, or null when it does not match the filter (or is not in the catalog). */
  cursorOf(id: string, f: ClipFilter, sort: ClipSort): SortCursor | null {
    const { sql, args } = whereOf(f, [{ sql: 'id = ?', args: [id] }])
    const row = this.locked(() => this.db.get(`SELECT ${SORT_KEYS[sort.by]} AS k, seq FROM clips ${sql}`, args) as Row | null)
    return row ? toCursor(row) : null
  }

  /**
   * The next `n` clips after a cursor in a sort (every clip, matching or not): the cursors of those matching
   * the filter, and the cursor of the n-th (null when fewer than n follow): a slice of a filter's page index.
   */
  sliceAfter(f: ClipFilter, sort: ClipSort, after: SortCursor | undefined, n: number): { matching: SortCursor[]; last: SortCursor | null } {
    const test = whereOf(f)
    const columns = { sql: `${SORT_KEYS[sort.by]} AS k, seq, ${test.sql ? test.sql.replace(/^WHERE /, '') : '1'} AS m`, args: test.args }
    const rows = this.afterCursor({}, sort, after, columns, n, 0)
    return { matching: rows.filter((r) => Number(r.m) === 1).map(toCursor), last: rows.length === n ? toCursor(rows[n - 1]) : null }
  }

  /** How many clips match a filter (its limit and offset aside). */
  count(f: ClipFilter = {}): number {
    return this.countBetween(f, 0, Number.MAX_SAFE_INTEGER)
  }

  /** How many clips with seq in (from, to] match a filter: a slice of count(), so a caller can count a big catalog in steps. */
  countBetween(f: ClipFilter, from: number, to: number): number {
    const { sql, args } = whereOf({ ...f, after: undefined }, [{ sql: 'seq > ? AND seq <= ?', args: [from, to] }])
    return this.locked(() => Number((this.db.get(`SELECT COUNT(*) AS n FROM clips ${sql}`, args) as Row).n))
  }

  /** Changes whenever any connection (this one or another process's) has written to the catalog. */
  version(): string {
    return this.locked(() => {
      const dv = (this.db.get('PRAGMA data_version') as Row).data_version
      const own = (this.db.get('SELECT total_changes() AS n') as Row).n
      return `${String(dv)}:${String(own)}`
    })
  }

  /** The newest clip's seq (0 when empty): where stepwise counts end. */
  lastSeq(): number {
    return this.locked(() => Number((this.db.get('SELECT COALESCE(MAX(seq), 0) AS n FROM clips') as Row).n))
  }

  /**
   * The same clips one at a time, for exports of catalogs too large to hold as records at once: read in
   * keyset pages, so no lock is held while the caller works on a clip.
   */
  *each(f: Omit<ClipFilter, 'sort'> = {}, page = 1000): Generator<ClipRecord> {
    let after = f.after
    let left = f.limit === undefined || f.limit < 0 ? Infinity : f.limit
    let skip = f.offset ?? 0
    while (left > 0) {
      const rows = this.list({ ...f, after, offset: skip, limit: Math.min(page, left) })
      skip = 0
      for (const r of rows) yield r
      if (rows.length < Math.min(page, left)) return
      left -= rows.length
      const seq = rows[rows.length - 1].seq ?? 0
      after = [seq, seq]
    }
  }

  counts(): CatalogCounts {
    const { excluded: _excluded, ...counts } = this.countsBetween(0, Number.MAX_SAFE_INTEGER)
    return counts
  }

  /** counts() of the clips with seq in (from, to], and how many of them are excluded; sums of slices add up. */
  countsBetween(from: number, to: number): CatalogCounts & { excluded: number } {
    const out = { total: 0, ok: 0, quarantined: 0, missing: 0, byReason: {}, bySplit: {}, excluded: 0 } as CatalogCounts & { excluded: number }
    const rows = this.locked(
      () => this.db.all('SELECT status, reason, split, SUM(excluded) AS x, COUNT(*) AS n FROM clips WHERE seq > ? AND seq <= ? GROUP BY status, reason, split', [from, to]) as Row[]
    )
    for (const r of rows) {
      const n = Number(r.n)
      out.total += n
      out.excluded += Number(r.x)
      if (r.status === 'ok') {
        out.ok += n
        if (r.split !== null) out.bySplit[r.split as Split] = (out.bySplit[r.split as Split] ?? 0) + n
      } else if (r.status === 'missing') out.missing += n
      else {
        out.quarantined += n
        out.byReason[r.reason as QuarantineReason] = (out.byReason[r.reason as QuarantineReason] ?? 0) + n
      }
    }
    return out
  }

  /** Every clip id, so a resumed manifest import skips (and does not probe again) rows already present. */
  ids(): Set<string> {
    return this.locked(() => {
      const out = new Set<string>()
      const st = this.db.prepare('SELECT id FROM clips')
      try {
        for (const r of st.iterate() as Iterable<Row>) out.add(String(r.id))
      } finally {
        st.finalize()
      }
      return out
    })
  }

  /** The file of every usable clip (what the media endpoint may serve), so a prune keeps their cached copies. */
  okPaths(): string[] {
    return this.locked(() => (this.db.all('SELECT path FROM clips WHERE status = ?', ['ok']) as Row[]).map((r) => String(r.path)))
  }

  /** path → (size, mtime) of every clip, so a re-run import skips files it has already seen unchanged. */
  seenFiles(): Map<string, { size: number; mtimeMs: number }> {
    const out = new Map<string, { size: number; mtimeMs: number }>()
    for (const r of this.locked(() => this.db.all('SELECT path, size, mtime_ms FROM clips') as Row[])) {
      out.set(String(r.path), { size: Number(r.size), mtimeMs: Number(r.mtime_ms) })
    }
    return out
  }

  /** One transaction, retried whole when another process held the lock. */
  private transaction(fn: () => void): void {
    this.locked(() => {
      this.db.exec('BEGIN IMMEDIATE')
      try {
        fn()
        this.db.exec('COMMIT')
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw err
      }
    })
  }
}
