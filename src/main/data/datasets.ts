/** The workspace's datasets: which exist, and opening one's catalog by name (never by a path from outside). */
import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkName, datasetDir, datasetsDir } from '../workspace'
import { Catalog, CatalogBusyError, type CatalogCounts, type ClipFilter, type ClipRecord, type ClipSort, compareCursors, IMPORT_ORDER, type SortCursor } from './catalog'

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

export type DatasetCounts = CatalogCounts & { excluded: number }

/** Clips counted per slice of import order: a slice of a big catalog takes a few milliseconds. */
const COUNT_SLICE = 10_000
/** clips per stretch of a filter's page index (a page read skips fewer than this), and values kept per dataset */
const PAGE_STEP = 100
const KEPT_VALUES = 32

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

/** Where each stretch of PAGE_STEP clips matching a filter starts in a sort: a page at any offset is then a keyset query. */
interface FilterIndex {
  /** how many clips match */
  total: number
  /** starts[j]: the cursor of the clip just before position j·PAGE_STEP (null for the first) */
  starts: (SortCursor | null)[]
}

/** What is known about a dataset at one catalog version (it changes with any write, from any process). */
interface Known {
  version: string
  /** counts, filters' page indexes and reports, by key */
  values: Map<string, Promise<unknown>>
}

/**
 * The server's catalogs: one open catalog per dataset, reused across requests (opening one costs ~16 ms).
 * A call never blocks the event loop on another process's lock: it fails at once inside SQLite and is
 * retried here after an asynchronous pause, until `waitMs`. Counts and the page index of a filter are
 * computed in slices, with the event loop free between them, and kept until the catalog changes; a page
 * is then read by key (`seq > ?`) from the start of its stretch, never by OFFSET over the clips before it.
 */
export class DatasetCatalogs {
  private readonly open = new Map<string, { catalog: Catalog; ino: number }>()
  private readonly known = new Map<string, Known>()

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

  /** `fn`'s result on the dataset, computed once per catalog version (reports read on every visit: the quarantine list). */
  async remember<T>(name: string, key: string, fn: (c: Catalog) => T): Promise<T> {
    return this.kept(name, `report:${key}`, () => this.use(name, fn))
  }

  /** A dataset's counts by status, reason, split and exclusion. */
  async counts(name: string): Promise<DatasetCounts> {
    return this.kept(name, 'counts', () =>
      this.sliced(name, { total: 0, ok: 0, quarantined: 0, missing: 0, excluded: 0, byReason: {}, bySplit: {} } as DatasetCounts, (c, from, to, acc) => addCounts(acc, c.countsBetween(from, to)))
    )
  }

  /** How many clips match a filter (from the page index of the sort it is listed in, so one index serves both). */
  async count(name: string, filter: ClipFilter, sort: ClipSort = IMPORT_ORDER): Promise<number> {
    return (await this.filterIndex(name, filter, sort)).total
  }

  /** A page of clips matching a filter, at an offset in a sort (import order by default). */
  async page(name: string, filter: ClipFilter, offset: number, limit: number, sort: ClipSort = IMPORT_ORDER): Promise<ClipRecord[]> {
    const { starts } = await this.filterIndex(name, filter, sort)
    const j = Math.max(0, Math.min(Math.floor(offset / PAGE_STEP), starts.length - 1))
    return this.use(name, (c) => c.list({ ...filter, sort, after: starts[j] ?? undefined, offset: offset - j * PAGE_STEP, limit }))
  }

  /** Where a clip is among the clips matching a filter in a sort (its index in page order), or null when it does not match. */
  async position(name: string, filter: ClipFilter, sort: ClipSort, id: string): Promise<number | null> {
    const { starts } = await this.filterIndex(name, filter, sort)
    const at = await this.use(name, (c) => c.cursorOf(id, filter, sort))
    if (!at) return null
    // the last stretch starting before the clip: the clip is among its PAGE_STEP clips
    let j = 0
    for (let lo = 1, hi = starts.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1
      if (compareCursors(sort, starts[mid] as SortCursor, at) < 0) {
        j = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    const stretch = await this.use(name, (c) => c.list({ ...filter, sort, after: starts[j] ?? undefined, limit: PAGE_STEP }))
    const k = stretch.findIndex((r) => r.id === id)
    return k < 0 ? null : j * PAGE_STEP + k
  }

  /**
   * A filter's page index in a sort, built in slices of `slice` clips of the sort (each read by key from the
   * end of the one before), with the event loop free between them.
   */
  private filterIndex(name: string, filter: ClipFilter, sort: ClipSort): Promise<FilterIndex> {
    return this.kept(name, `filter:${JSON.stringify([filter, sort])}`, async () => {
      const acc: FilterIndex = { total: 0, starts: [] }
      let previous: SortCursor | null = null
      for (let from: SortCursor | null = null, done = false; !done; await sleep(0)) {
        const { matching, last } = await this.use(name, (c) => c.sliceAfter(filter, sort, from ?? undefined, this.slice))
        for (const cursor of matching) {
          if (acc.total++ % PAGE_STEP === 0) acc.starts.push(previous)
          previous = cursor
        }
        done = last === null
        from = last
      }
      return acc
    })
  }

  /** A value kept for the catalog's current version; a failed computation is not kept. */
  private async kept<T>(name: string, key: string, compute: () => Promise<T>): Promise<T> {
    const k = await this.current(name)
    let got = k.values.get(key) as Promise<T> | undefined
    if (!got) {
      const computing = compute()
      got = computing
      k.values.set(key, computing)
      computing.catch(() => k.values.get(key) === computing && k.values.delete(key))
      while (k.values.size > KEPT_VALUES) k.values.delete(k.values.keys().next().value as string)
    }
    return got
  }

  /** What is known of the dataset, forgotten when its catalog has changed. */
  private async current(name: string): Promise<Known> {
    const version = await this.use(name, (c) => c.version())
    let k = this.known.get(name)
    if (!k || k.version !== version) {
      k = { version, values: new Map() }
      this.known.set(name, k)
    }
    return k
  }

  /** Folds `step` over the catalog's clips in slices of import order, yielding the event loop between slices. */
  private async sliced<T>(name: string, init: T, step: (c: Catalog, from: number, to: number, acc: T) => T): Promise<T> {
    const last = await this.use(name, (c) => c.lastSeq())
    let acc = init
    for (let from = 0; from < last; from += this.slice) {
      acc = await this.use(name, (c) => step(c, from, from + this.slice, acc))
      await sleep(0)
    }
    return acc
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
