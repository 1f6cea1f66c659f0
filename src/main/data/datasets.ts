/** The workspace's datasets: which exist, and opening one's catalog by name (never by a path from outside). */
import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkName, datasetDir, datasetsDir } from '../workspace'
import { Catalog, CatalogBusyError, type CatalogCounts, type ClipFilter, type ClipRecord } from './catalog'

export const CATALOG_FILE = 'catalog.sqlite'

/** Names of the datasets with a catalog, sorted. */
export async function listDatasets(workspace: string): Promise<string[]> {
  if (!existsSync(datasetsDir(workspace))) return []
  const entries = await readdir(datasetsDir(workspace), { withFileTypes: true })
  return entries
    .filter((d) => d.isDirectory() && existsSync(join(datasetsDir(workspace), d.name, CATALOG_FILE)))
    .map((d) => d.name)
    .sort()
}

/** A dataset's catalog file; a clear error names the folder where none is. */
function catalogFile(workspace: string, name: string): string {
  const dir = datasetDir(workspace, checkName('dataset', name))
  const file = join(dir, CATALOG_FILE)
  if (!existsSync(file)) throw new Error(`no dataset "${name}" in ${workspace} (expected ${file})`)
  return file
}

/** Opens an existing dataset's catalog; a clear error names the folder where none is. */
export function openDataset(workspace: string, name: string): Catalog {
  return new Catalog(catalogFile(workspace, name))
}

/** Runs `fn` on a dataset's catalog and closes it, whatever happens. */
export async function withDataset<T>(workspace: string, name: string, fn: (c: Catalog) => T | Promise<T>): Promise<T> {
  const catalog = openDataset(workspace, name)
  try {
    return await fn(catalog)
  } finally {
    catalog.close()
  }
}

export type DatasetCounts = CatalogCounts & { excluded: number }

/** Clips counted per slice of import order: a slice of a big catalog takes a few milliseconds. */
const COUNT_SLICE = 50_000
/** page boundaries remembered: per filter, and how many filters */
const MEMO_BOUNDARIES = 20_000
const MEMO_FILTERS = 16

function addCounts(a: DatasetCounts, b: DatasetCounts): DatasetCounts {
  const sum = <K extends string>(x: Partial<Record<K, number>>, y: Partial<Record<K, number>>): Partial<Record<K, number>> => {
    const out = { ...x }
    for (const [k, v] of Object.entries(y) as [K, number][]) out[k] = (out[k] ?? 0) + v
    return out
  }
  return {
    total: a.total + b.total,
    ok: a.ok + b.ok,
    quarantined: a.quarantined + b.quarantined,
    missing: a.missing + b.missing,
    excluded: a.excluded + b.excluded,
    byReason: sum(a.byReason, b.byReason),
    bySplit: sum(a.bySplit, b.bySplit)
  }
}

/**
 * The server's catalogs: one open catalog per dataset, reused across requests (opening one costs ~16 ms).
 * A call never blocks the event loop on another process's lock: it fails at once inside SQLite and is
 * retried here after an asynchronous pause, until `waitMs`; counts of big catalogs are taken in slices
 * with the event loop free between them.
 */
export class DatasetCatalogs {
  private readonly open = new Map<string, { catalog: Catalog; ino: number }>()
  /** per dataset and filter: offset → seq of the clip just before it, learnt from pages served (keyset paging) */
  private readonly boundaries = new Map<string, { version: string; at: Map<number, number> }>()

  constructor(
    private readonly workspace: string,
    private readonly waitMs = 30_000,
    private readonly slice = COUNT_SLICE
  ) {}

  /** Runs a synchronous `fn` on a dataset's catalog, retrying (asynchronously) while another process holds its lock. */
  async use<T>(name: string, fn: (c: Catalog) => T): Promise<T> {
    const deadline = Date.now() + this.waitMs
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      try {
        return fn(this.catalog(name))
      } catch (err) {
        if (!(err instanceof CatalogBusyError) || Date.now() + delay > deadline) throw err
        await sleep(delay)
      }
    }
  }

  /** A dataset's counts by status, reason, split and exclusion, counted slice by slice. */
  async counts(name: string): Promise<DatasetCounts> {
    const last = await this.use(name, (c) => c.lastSeq())
    let out: DatasetCounts = { total: 0, ok: 0, quarantined: 0, missing: 0, excluded: 0, byReason: {}, bySplit: {} }
    for (let from = 0; from < last; from += this.slice) {
      out = addCounts(out, await this.use(name, (c) => c.countsBetween(from, from + this.slice)))
      await sleep(0)
    }
    return out
  }

  /** How many clips match a filter, counted slice by slice. */
  async count(name: string, filter: ClipFilter): Promise<number> {
    const last = await this.use(name, (c) => c.lastSeq())
    let n = 0
    for (let from = 0; from < last; from += this.slice) {
      n += await this.use(name, (c) => c.countBetween(filter, from, from + this.slice))
      await sleep(0)
    }
    return n
  }

  /**
   * A page of clips at an offset, read from the nearest page boundary seen before (keyset: `seq > ?`), so
   * paging down a big catalog never makes SQLite step over the rows it skipped; a jump far ahead costs one
   * OFFSET from the nearest known boundary. Boundaries are forgotten when the catalog changes.
   */
  async page(name: string, filter: ClipFilter, offset: number, limit: number): Promise<ClipRecord[]> {
    const key = `${name}\0${JSON.stringify(filter)}`
    return this.use(name, (c) => {
      const version = c.version()
      let memo = this.boundaries.get(key)
      if (!memo || memo.version !== version) {
        memo = { version, at: new Map([[0, 0]]) }
        this.boundaries.delete(key)
        this.boundaries.set(key, memo)
        while (this.boundaries.size > MEMO_FILTERS) this.boundaries.delete(this.boundaries.keys().next().value as string)
      }
      let from = 0
      for (const k of memo.at.keys()) if (k <= offset && k > from) from = k
      const rows = c.list({ ...filter, after: memo.at.get(from), offset: offset - from, limit })
      const last = rows.at(-1)?.seq
      if (last !== undefined && memo.at.size < MEMO_BOUNDARIES) memo.at.set(offset + rows.length, last)
      return rows
    })
  }

  close(): void {
    for (const { catalog } of this.open.values()) catalog.close()
    this.open.clear()
  }

  /** The open catalog, reopened when its file was replaced (a dataset deleted and imported again). */
  private catalog(name: string): Catalog {
    const held = this.open.get(name)
    let file: string
    try {
      file = catalogFile(this.workspace, name)
    } catch (err) {
      held?.catalog.close()
      this.open.delete(name)
      throw err
    }
    const ino = statSync(file).ino
    if (held && held.ino === ino) return held.catalog
    held?.catalog.close()
    this.open.delete(name)
    const catalog = new Catalog(file, { waitMs: 0 })
    this.open.set(name, { catalog, ino })
    return catalog
  }
}
