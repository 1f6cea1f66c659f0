import { type Command, optionSpec, UsageError, str } from '../command'
import { pruneCaches, type FolderPrune } from '../../main/data/cache-prune'
import { openDataset } from '../../main/data/datasets'
import { datasetDir, resolveWorkspace } from '../../main/workspace'
import { describeFailed, describeFreed } from '../../shared/cache-prune'

/** One line per cache folder (files and space freed), then one per file that could not be removed. */
function describePrune(dataset: string, folders: readonly FolderPrune[]): string {
  const lines = [...folders.map(describeFreed), ...describeFailed(folders)]
  return `dataset "${dataset}": stale cached copies removed\n${lines.map((l) => `  ${l}\n`).join('')}`
}

export const datasetPruneCacheCommand: Command = {
  path: ['dataset', 'prune-cache'],
  summary: "remove a dataset's cached transcodes and thumbnails of files that were replaced, edited or removed",
  usage: [
    '  --name NAME          dataset name',
    '  --workspace DIR',
    '  --json               print {"dataset","folders":[{"folder","files","bytes","failed":[{"file","reason"}]}]}',
    'A copy in playback/ or thumbs/ is kept while a usable clip of the catalog has the file version it was made',
    'from (the same path, size and modification time). Exits 1 when a file could not be removed (each is named).'
  ].join('\n'),
  options: optionSpec(['name', 'workspace'], ['json']),
  async run(values) {
    const dataset = str(values, 'name')
    if (!dataset) throw new UsageError('--name NAME is required')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const catalog = openDataset(workspace, dataset)
    let folders: FolderPrune[]
    try {
      folders = await pruneCaches(datasetDir(workspace, dataset), async () => catalog.okPaths())
    } finally {
      catalog.close()
    }
    process.stdout.write(values.json ? JSON.stringify({ dataset, folders }) + '\n' : describePrune(dataset, folders))
    return folders.some((f) => f.failed.length > 0) ? 1 : 0
  }
}
