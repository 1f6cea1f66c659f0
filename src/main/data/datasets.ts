/** The workspace's datasets: which exist, and opening one's catalog by name (never by a path from outside). */
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { checkName, datasetDir, datasetsDir } from '../workspace'
import { Catalog } from './catalog'

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

/** Opens an existing dataset's catalog; a clear error names the folder where none is. */
export function openDataset(workspace: string, name: string): Catalog {
  const dir = datasetDir(workspace, checkName('dataset', name))
  if (!existsSync(join(dir, CATALOG_FILE))) throw new Error(`no dataset "${name}" in ${workspace} (expected ${dir}/${CATALOG_FILE})`)
  return Catalog.open(dir)
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
